import { openSync, writeSync, constants as fsConstants } from 'node:fs';
import type { Writable } from 'node:stream';
import { loadBuiltin } from '../lazy/builtin.js';
import { inForeground } from './terminal-foreground.js';

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
 * - A background `celistra run` (the shell's `&`, or Ctrl-Z then `bg`) does not read the
 *   terminal (run/terminal-foreground.ts): its command's read waits until `fg`, and it is
 *   never stopped for input its command may never ask for (`make > log &` runs on). A
 *   read that still races a switch to the background is stopped by the kernel (SIGTTIN)
 *   as any job's, without consuming anything, and `fg` resumes it. Reading fails with EIO
 *   only when the process group is orphaned: stdin then ends.
 */
export class TerminalStdin {
  private readonly stream: import('node:tty').ReadStream | undefined;
  private stopped = false;
  /** A read was handed to the command's pipe and the command has not taken all of it yet. */
  private waitingForPipe = false;
  /** libuv is watching the terminal for input (between resume() and the next read). */
  private reading = false;
  private readonly tick: NodeJS.Timeout | undefined;

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
    const reopened = reopenTerminal();
    if ('why' in reopened) {
      // Reading fd 0 itself would set O_NONBLOCK on the caller's own open file (libuv), or
      // leave a blocking read that holds the run up after the command; neither is done.
      // The command is already started (this runs after the spawn): it gets an empty stdin.
      say(`celistra: note: cannot open the terminal on stdin again (${reopened.why}): the command's stdin is empty; give it input with \`< file\` or a pipe\n`);
      this.stopped = true;
      sink.end();
      this.stream = undefined;
      this.tick = undefined;
      return;
    }
    const fd = reopened.fd;
    this.stream = new tty.ReadStream(fd, options);
    this.stream.pause();
    sink.on('error', () => this.stop());
    // Ctrl-D at the start of a line, or EIO (orphaned): the command's stdin ends.
    this.stream.once('end', () => this.finish());
    this.stream.on('error', () => this.finish());
    // Whether to read is decided again every TICK_MS: the command took the last read, and
    // this run is (still) in the terminal's foreground. In the background it does not
    // watch the terminal at all: it would race the shell for every key the user types
    // there, and be stopped (SIGTTIN) whenever it won, even if its command never reads.
    this.tick = setInterval(() => this.decide(() => inForeground(fd)), TICK_MS);
    this.tick.unref();
    this.decide(() => inForeground(fd));
  }

  private take(chunk: Buffer): void {
    this.reading = false;
    if (this.stopped) return;
    this.waitingForPipe = true;
    this.sink.write(chunk);
  }

  private decide(foreground: () => boolean): void {
    if (this.stopped) return;
    if (this.waitingForPipe && this.pipeEmpty()) this.waitingForPipe = false;
    const read = !this.waitingForPipe && foreground();
    if (read === this.reading) return;
    this.reading = read;
    if (read) this.stream?.resume();
    else this.stream?.pause();
  }

  /** Whether the command has read all the pipe holds (without FIONREAD: once our write is done). */
  private pipeEmpty(): boolean {
    if (this.sink.writableLength > 0) return false;
    try {
      return (this.unread?.() ?? 0) === 0;
    } catch {
      return true;
    }
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
    clearInterval(this.tick);
    this.stream?.destroy();
  }
}

/** One read: a line, in canonical mode, is at most 4095 bytes and its newline. */
const READ_SIZE = 4096;

/** How often the pipe and the terminal's foreground are looked at again. */
const TICK_MS = 20;

/**
 * The terminal on descriptor 0, opened again: a new open file, whose non-blocking flag
 * (libuv sets it) is ours alone. O_NOCTTY: a run without a controlling terminal must not
 * acquire this one. Undefined when it cannot be opened again: a terminal another user
 * owns (a shell after `su`, whose /dev/pts/N is still the first user's, mode 0620).
 */
function reopenTerminal(): { fd: number } | { why: string } {
  try {
    return { fd: openSync('/proc/self/fd/0', fsConstants.O_RDONLY | fsConstants.O_NOCTTY) };
  } catch (e) {
    return { why: (e as Error).message };
  }
}

/** Celistra's own note on the caller's stderr. */
function say(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // Nowhere to say it.
  }
}
