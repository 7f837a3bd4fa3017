import { close, closeSync, constants as fsConstants, createReadStream, createWriteStream, fstatSync, openSync, read, writeSync, writev } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { STDIO_NAMES, type StdioRoutes } from './stdio-kind.js';
import { loadPipeMaker, loadPipeUnread } from '../backends/landlock/native-addon.js';
import { TerminalStdin } from './terminal-stdin.js';

/**
 * The relay between a fenced command and the files its caller redirected stdio from or
 * to (docs/security.md, "Inherited stdio"). The command gets a pipe; this process, outside
 * the fence, copies stdin's file into it and the pipe's output into stdout's and stderr's
 * files, through the caller's own descriptors, so O_APPEND, the file offset and whatever
 * else the caller's shell set up behave as the user redirected. The command never holds
 * the file itself: no fchmod, futimens, fsetxattr, ftruncate or pwrite reaches it, and
 * /proc/self/fd/N leads to the pipe. The user's terminal is relayed the same way (output
 * written to it as to a file; stdin read by run/terminal-stdin.ts), so no tcsetattr,
 * fchmod or futimens of the command reaches it either.
 *
 * Order: stdout and stderr redirected to the same file share one pipe, so their writes
 * land in the order the command made them. Into different files each has its own pipe.
 * stdin is read ahead by at most one chunk plus the pipe's buffer: a caller that reads
 * the rest of the same file after the run finds its offset past what the command read.
 */

/** What `spawn` is given for one descriptor: our pipe end's number, or inherit. */
type SpawnStdio = number | 'inherit' | 'pipe';

export interface StdioRelay {
  stdio: [SpawnStdio, SpawnStdio, SpawnStdio];
  /** Once the child exists: close its ends here and start copying. */
  start(child: ChildProcess): void;
  /** Once the child exited: resolves when its output is copied out (see OUTPUT_IDLE_MS). */
  finish(): Promise<void>;
  /** The spawn failed: close everything. */
  abandon(): void;
}

/**
 * After the command exited, how long output may stay silent before the relay stops
 * waiting for its end. Under namespaces everything the command left behind is dead by
 * then and the pipe ends at once, after what was buffered; only a process that escaped
 * the kill (Landlock without namespaces) can hold it open, and the run must still return.
 */
const OUTPUT_IDLE_MS = 2000;
const CHUNK = 64 * 1024;
/** The size native/src/addon.cc asks for the pipes it makes. */
const PIPE_BUFFER = 1024 * 1024;
/** Output read ahead of the file's writes before reading pauses (the pipe then fills and the command waits). */
const QUEUE_LIMIT = 1024 * 1024;

export function prepareStdioRelay(routes: StdioRoutes): StdioRelay {
  const makePipe = loadPipeMaker();
  const stdio: StdioRelay['stdio'] = ['inherit', 'inherit', 'inherit'];
  /** Our ends, by the descriptor they serve (0: we write; 1, 2: we read). */
  const ours: (number | undefined)[] = [];
  /** The command's ends, closed here once it has them. */
  const theirs: number[] = [];
  const [inRoute, outRoute, errRoute] = routes.routes;
  if (inRoute === 'empty' && makePipe) {
    const [r, w] = makePipe();
    closeSync(w);
    stdio[0] = r;
    theirs.push(r);
  } else if (inRoute !== 'inherit') {
    if (makePipe) {
      const [r, w] = makePipe();
      stdio[0] = r;
      theirs.push(r);
      ours[0] = w;
    } else stdio[0] = 'pipe';
  }
  for (const fd of [1, 2] as const) {
    if ((fd === 1 ? outRoute : errRoute) !== 'relay') continue;
    if (fd === 2 && routes.sharedOutput && typeof stdio[1] === 'number') {
      stdio[2] = stdio[1];
      continue;
    }
    if (makePipe) {
      const [r, w] = makePipe();
      stdio[fd] = w;
      theirs.push(w);
      ours[fd] = r;
    } else stdio[fd] = 'pipe';
  }
  const closeTheirs = () => {
    for (const fd of theirs.splice(0)) closeSync(fd);
  };
  const pumps: OutputPump[] = [];
  let input: InputPump | TerminalStdin | undefined;
  return {
    stdio,
    start(child) {
      closeTheirs();
      // Our write end, or Node's own pipe (no addon); an empty stdin needs neither.
      if (ours[0] !== undefined || stdio[0] === 'pipe') {
        const sink = ours[0] !== undefined ? createWriteStream('', { fd: ours[0] }) : child.stdin;
        if (sink && routes.terminals?.[0]) input = terminalStdin(sink, ours[0]);
        else if (sink) input = new InputPump(sink, stdinSource());
      }
      for (const fd of [1, 2] as const) {
        if (stdio[fd] === 'inherit' || (fd === 2 && stdio[2] === stdio[1] && typeof stdio[1] === 'number')) continue;
        // Reads of up to the pipe's whole buffer at a time: the per-read cost, not the
        // copy, is most of what relaying costs (bench/stdio-relay.ts).
        const source = ours[fd] !== undefined ? createReadStream('', { fd: ours[fd], highWaterMark: PIPE_BUFFER }) : fd === 1 ? child.stdout : child.stderr;
        if (source) pumps.push(new OutputPump(source, fd, ours[fd]));
      }
    },
    async finish() {
      input?.stop();
      await Promise.all(pumps.map((p) => p.done(OUTPUT_IDLE_MS)));
    },
    abandon() {
      closeTheirs();
      for (const fd of ours) if (fd !== undefined) close(fd, () => {});
    },
  };
}

/** The terminal on stdin, read a line at a time as the command takes them (run/terminal-stdin.ts). */
function terminalStdin(sink: Writable, writeEnd: number | undefined): TerminalStdin {
  const unread = writeEnd !== undefined ? loadPipeUnread() : undefined;
  return new TerminalStdin(sink, unread && (() => unread(writeEnd!)));
}

/** The pipe's output into descriptor `target` (1 or 2), written as the caller opened it. */
class OutputPump {
  private ended = false;
  private failed = false;
  private writing = false;
  private sourceDone = false;
  private queued: Buffer[] = [];
  private queuedBytes = 0;
  private finished: Promise<void>;
  private resolveFinished!: () => void;
  private idle: NodeJS.Timeout | undefined;
  private idleMs = 0;
  private stoppedReading = false;

  constructor(
    private readonly source: Readable,
    private readonly target: 1 | 2,
    /** Our read end's number, when it is a pipe from the addon read through fs (see stopReading). */
    private readonly readEnd?: number,
  ) {
    this.finished = new Promise((r) => (this.resolveFinished = r));
    // Reading goes on while a write is in flight: what arrives meanwhile goes out in the
    // next write (one writev), so the copy overlaps both sides instead of alternating.
    source.on('data', (chunk: Buffer) => {
      this.queued.push(chunk);
      this.queuedBytes += chunk.length;
      this.armIdle();
      if (this.queuedBytes >= QUEUE_LIMIT) source.pause();
      this.flush();
    });
    source.once('end', () => this.drained());
    source.once('close', () => this.drained());
    // A read error on our own pipe end: nothing more can come.
    source.on('error', () => this.drained());
  }

  private flush(): void {
    if (this.writing || this.failed || this.queued.length === 0) return;
    const batch = this.queued.splice(0);
    this.queuedBytes = 0;
    this.writing = true;
    writeAll(this.target, batch, (err) => {
      this.writing = false;
      if (err) return this.fail(err);
      if (this.sourceDone && this.queued.length === 0) return this.end();
      this.source.resume();
      this.flush();
      // Time spent waiting on the caller's reader is not the holder's silence: count
      // again from the end of the write (armIdle).
      this.armIdle();
    });
  }

  /** The pipe has no more: end once what is queued is written. */
  private drained(): void {
    this.sourceDone = true;
    if (!this.writing && this.queued.length === 0) this.end();
  }

  /** Resolves once the pipe ended, or stayed silent `idleMs` after the command exited. */
  done(idleMs: number): Promise<void> {
    this.idleMs = idleMs;
    this.armIdle();
    return this.finished;
  }

  /**
   * Silence counts only while nothing is queued or being written: a write that waits on a
   * slow reader (a terminal stopped with Ctrl-S, a slow ssh link, a pager) holds the
   * command's output back itself, and giving up then would drop what the command wrote
   * (found by attack: 1.5 MB to a terminal not read for 5 s arrived as 16 KB).
   */
  private armIdle(): void {
    if (!this.idleMs || this.ended) return;
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    if (this.writing || this.queued.length > 0) return;
    this.idle = setTimeout(() => {
      say(`celistra: note: stopped copying the command's ${STDIO_NAMES[this.target]}: a process it left behind still holds it open, silent for ${this.idleMs / 1000} s after the command exited\n`);
      this.stopReading();
      this.queued = [];
      this.end();
    }, this.idleMs);
    this.idle.unref();
  }

  private fail(err: NodeJS.ErrnoException): void {
    // The command's next write gets EPIPE, as it would have got this error writing itself.
    this.failed = true;
    this.queued = [];
    this.stopReading();
    say(`celistra: could not write the command's ${STDIO_NAMES[this.target]}: ${err.message}\n`);
    this.end();
  }

  /**
   * Stop reading while a holder keeps the pipe open. The fs stream's read of our end is a
   * blocking read(2) in libuv's thread pool: destroy() waits for it before closing, and
   * process.exit joins that thread, so the run would return only when the holder writes
   * or exits. One byte written into the pipe through a write end of our own ends that
   * read; the stream, destroyed first, drops it and closes. The write end is opened
   * while the read end is surely still ours (the source has not ended and was never
   * destroyed), never after: a reused number would take the byte elsewhere.
   */
  private stopReading(): void {
    // Once only: after destroy() the read end may be closed and its number reused.
    if (this.stoppedReading) return;
    this.stoppedReading = true;
    let wake: number | undefined;
    if (this.readEnd !== undefined && !this.sourceDone) {
      try {
        wake = openSync(`/proc/self/fd/${this.readEnd}`, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
      } catch {
        // No /proc: the read stays pending until the holder lets go, as before.
      }
    }
    this.source.destroy();
    if (wake === undefined) return;
    try {
      writeSync(wake, Buffer.alloc(1));
    } catch {
      // EAGAIN, the pipe is full: no read of ours is waiting on it.
    }
    closeSync(wake);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.idle) clearTimeout(this.idle);
    this.resolveFinished();
  }
}

/** The caller's stdin (descriptor 0) into the command's pipe, until end of file. */
class InputPump {
  private stopped = false;

  constructor(
    private readonly sink: Writable,
    /** What is read: descriptor 0, or our own non-blocking reader of its FIFO (stdinSource). */
    private readonly source: number,
  ) {
    // EPIPE: the command closed its stdin without reading it all, as `head` does.
    sink.on('error', () => this.stop());
    this.next();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sink.destroy();
    // A read in flight releases it when it returns (a FIFO reader never blocks).
    if (!this.reading) this.release();
  }

  private released = false;
  private reading = false;

  /** Our FIFO reader, closed once: a second close could hit a number reused meanwhile. */
  private release(): void {
    if (this.released || this.source === 0) return;
    this.released = true;
    close(this.source, () => {});
  }

  private next(): void {
    if (this.stopped) return;
    const buf = Buffer.allocUnsafe(CHUNK);
    this.reading = true;
    read(this.source, buf, 0, CHUNK, null, (err, n) => {
      this.reading = false;
      if (this.stopped) return void this.release();
      if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') return void setTimeout(() => this.next(), 10);
      if (err || n === 0) {
        if (err) say(`celistra: could not read the command's stdin: ${err.message}\n`);
        this.sink.end();
        this.release();
        return;
      }
      if (this.sink.write(buf.subarray(0, n))) this.next();
      else this.sink.once('drain', () => this.next());
    });
  }
}

/**
 * stdin a named FIFO: read through a non-blocking reader of our own (the same pipe,
 * opened again through /proc/self/fd/0), polled on EAGAIN. A blocking read of fd 0 sits
 * in libuv's thread pool until a writer writes or closes, and process.exit joins that
 * thread: a command that exits without reading would leave `celistra run` waiting on the
 * caller's silent writer (`sleep 60 > fifo &`). Setting O_NONBLOCK on fd 0 itself would
 * change the caller's own open file. Anything else (a regular file, a device) is read as
 * it is.
 */
function stdinSource(): number {
  try {
    if (fstatSync(0).isFIFO()) return openSync('/proc/self/fd/0', fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch {
    // No /proc, or the FIFO is gone: read fd 0 as before.
  }
  return 0;
}

/** All of `chunks` to `fd` at its current offset (or its end, with O_APPEND). */
function writeAll(fd: number, chunks: Buffer[], done: (err: NodeJS.ErrnoException | null) => void): void {
  writev(fd, chunks, null, (err, n) => {
    if (err && err.code === 'EAGAIN') return void setTimeout(() => writeAll(fd, chunks, done), 10);
    if (err) return done(err);
    const rest = after(chunks, n);
    if (rest.length) return writeAll(fd, rest, done);
    done(null);
  });
}

/** What of `chunks` is left once the first `n` bytes are written. */
function after(chunks: Buffer[], n: number): Buffer[] {
  let skip = n;
  const rest: Buffer[] = [];
  for (const c of chunks) {
    if (skip >= c.length) skip -= c.length;
    else {
      rest.push(skip ? c.subarray(skip) : c);
      skip = 0;
    }
  }
  return rest;
}

/** Celistra's own note on the caller's stderr, which may be the very file that failed. */
function say(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // Nowhere left to say it; the command's exit status still tells.
  }
}
