import { openSync, constants as fsConstants } from 'node:fs';
import type { Writable } from 'node:stream';
import { loadBuiltin } from '../lazy/builtin.js';
import { CelistraError } from '../policy/errors.js';

/**
 * The user's terminal on stdin of a non-interactive run, relayed into the command's pipe
 * (docs/security.md, "Inherited stdio": a terminal is never handed to a fenced command).
 *
 * - The terminal is never put in raw mode: it stays as the user's shell left it, so the
 *   line discipline still edits lines, echoes, and turns Ctrl-C into SIGINT for this
 *   process (which passes it on to the command, run/launch.ts) and Ctrl-D into end of
 *   file, which ends the command's stdin.
 * - It is read through an open file of our own (the same /dev/pts/N opened again), which
 *   libuv watches with epoll: no read sits blocked in the thread pool, so the run returns
 *   as soon as the command is done, whether or not anything was typed. The caller's own
 *   open file keeps its flags (no O_NONBLOCK left on the user's shell's terminal).
 * - It is read only while the run lives, one read at a time (a line, in the terminal's
 *   usual canonical mode), and read again only once the command has taken everything
 *   from the pipe (FIONREAD on our write end, `pipeUnread`). What the user types ahead
 *   for their shell while the command is not reading stays in the terminal, but for the
 *   one read already in the pipe: that line is lost when the command exits unread.
 *   Without the addon (no FIONREAD) the next read waits only for the pipe write.
 * - A background `celistra run` (the shell's `&`, or Ctrl-Z then `bg`) reads the terminal
 *   only once something is typed; the kernel then stops it with SIGTTIN, as any
 *   background job that reads its terminal, and `fg` resumes it. Reading fails with EIO
 *   only when the process group is orphaned: stdin then ends.
 */
export class TerminalStdin {
  private readonly stream: import('node:tty').ReadStream;
  private stopped = false;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: Writable,
    /** How much of what was written the command has not read yet; undefined: not known. */
    private readonly unread: (() => number) | undefined,
  ) {
    const tty = loadBuiltin<typeof import('node:tty')>('node:tty');
    // `onread`: each read lands in our buffer and, its callback answering false, reading
    // stops at once (libuv's read_stop) until resume(). A 'data' listener would not: the
    // stream reads one chunk more into its own buffer before it pauses, and that line
    // would be lost with the run.
    const options = {
      onread: {
        buffer: Buffer.alloc(READ_SIZE),
        callback: (n: number, buf: Buffer) => {
          this.take(Buffer.from(buf.subarray(0, n)));
          return false;
        },
      },
    } as ConstructorParameters<typeof tty.ReadStream>[1];
    this.stream = new tty.ReadStream(reopenTerminal(), options);
    sink.on('error', () => this.stop());
    this.stream.resume();
    // Ctrl-D at the start of a line, or EIO (orphaned): the command's stdin ends.
    this.stream.once('end', () => this.finish());
    this.stream.on('error', () => this.finish());
  }

  private take(chunk: Buffer): void {
    if (this.stopped) return;
    this.sink.write(chunk, (err) => {
      if (!err) this.whenTaken(() => this.stream.resume());
    });
  }

  /** Calls `next` once the command has read all the pipe holds (polled: a pipe writer is not told). */
  private whenTaken(next: () => void): void {
    if (this.stopped) return;
    let left = 0;
    try {
      left = this.unread?.() ?? 0;
    } catch {
      left = 0;
    }
    if (left === 0) return next();
    this.poll = setTimeout(() => this.whenTaken(next), TAKEN_POLL_MS);
  }

  private finish(): void {
    if (this.stopped) return;
    this.sink.end();
    this.close();
  }

  /** The command exited (or closed its stdin): stop reading the terminal, drop what is pending. */
  stop(): void {
    if (this.stopped) return;
    this.sink.destroy();
    this.close();
  }

  private close(): void {
    this.stopped = true;
    if (this.poll) clearTimeout(this.poll);
    this.stream.destroy();
  }
}

/** One read: a line, in canonical mode, is at most 4095 bytes and its newline. */
const READ_SIZE = 4096;

/** How often the pipe is asked whether the command took the last line. */
const TAKEN_POLL_MS = 15;

/**
 * The terminal on descriptor 0, opened again: a new open file, whose non-blocking flag
 * (libuv sets it) is ours alone. O_NOCTTY: a run without a controlling terminal must not
 * acquire this one.
 */
function reopenTerminal(): number {
  try {
    return openSync('/proc/self/fd/0', fsConstants.O_RDONLY | fsConstants.O_NOCTTY);
  } catch (e) {
    throw new CelistraError(
      'E_SPAWN',
      `cannot relay the terminal on stdin to the fenced command: opening it again failed: ${(e as Error).message}`,
      'give the command its input another way: `< file`, `</dev/null`, or a pipe',
    );
  }
}
