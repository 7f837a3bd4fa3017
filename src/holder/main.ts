/**
 * A holder: one small process per agent run that owns the agent's PTY, its scrollback
 * ring and its screen model, and serves them on its own 0600 unix socket. The daemon
 * is only a client of it, so a daemon crash or upgrade never takes an agent down (the
 * dtach/conmon pattern). Started detached by the daemon: `node main.js CONFIG_FILE`.
 */
import { createServer, type Socket } from 'node:net';
import { closeSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import * as pty from 'node-pty';
import { RingBuffer } from '../terminal/ring-buffer.js';
import { ScreenFeed } from '../terminal/screen-feed.js';
import { isXtermError } from '../terminal/screen-guard.js';
import { encodeFrame, FrameDecoder, FrameKind, type Frame } from './frame.js';
import type { ExitInfo, HolderConfig, HolderHello } from './config.js';

/** Parse backlog at which the PTY is paused, so a flood cannot grow memory without bound. */
const SCREEN_HIGH_WATER = 4 * 1024 * 1024;
const SCREEN_LOW_WATER = 1024 * 1024;
/** Unsent bytes to the daemon at which reading pauses; a daemon stuck this long is dropped. */
const DAEMON_HIGH_WATER = 1024 * 1024;
const DAEMON_STUCK_MS = 10_000;
/**
 * Output replayed into a screen model rebuilt after a terminal emulator failure: enough
 * for an approximate screen at any size we accept, small enough to parse in a few ms.
 */
const REBUILD_HISTORY_BYTES = 256 * 1024;
/** How long an exit waits for the screen model to catch up, for the last line. */
const EXIT_LINE_WAIT_MS = 500;

const configPath = process.argv[2];
if (!configPath) {
  process.stderr.write('usage: holder CONFIG_FILE\n');
  process.exit(64);
}
const config = JSON.parse(readFileSync(configPath, 'utf8')) as HolderConfig;
rmSync(configPath, { force: true });

/** fd 3 is a pipe the daemon reads once: one JSON line, then EOF. Synchronous, so it is sent even when we exit right after. */
let readyReported = false;
function reportReady(msg: Record<string, unknown>): void {
  if (readyReported) return;
  readyReported = true;
  writeSync(3, `${JSON.stringify(msg)}\n`);
  closeSync(3);
}

let term: pty.IPty;
try {
  term = pty.spawn(config.plan.file, config.plan.args, {
    name: config.plan.env.TERM || 'xterm-256color',
    cols: config.cols,
    rows: config.rows,
    cwd: config.plan.cwd,
    env: config.plan.env,
    encoding: null,
  });
} catch (e) {
  reportReady({ ok: false, error: (e as Error).message });
  process.exit(68);
}

const startedAt = Date.now();
const ring = new RingBuffer(config.scrollbackBytes);
const screen = new ScreenFeed(config.cols, config.rows, onScreenProgress, {
  history: () => ring.tail(REBUILD_HISTORY_BYTES),
  onFailure: logScreenFailure,
  // Queries the agent prints are answered here, from the model, as tmux does: clients
  // never see them (terminal/output-filter.ts), so nobody else answers.
  onReply: (reply) => {
    if (!exitInfo) term.write(reply);
  },
});

/** Failures logged so far, by message: an emulator bug that recurs is logged once. */
const loggedScreenFailures = new Set<string>();
function logScreenFailure(error: unknown): void {
  const key = error instanceof Error ? error.message : String(error);
  if (loggedScreenFailures.has(key)) return;
  loggedScreenFailures.add(key);
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`holder: the terminal emulator failed; screen model rebuilt, the agent is unaffected: ${detail}\n`);
}

// xterm parses in its own timers. ScreenModel catches throws from its parser and from
// every call it makes, but any other exception raised inside xterm would be uncaught and
// end this process, hanging up the agent's PTY: an emulator bug must not kill an agent.
// Only errors whose top stack frame is in @xterm are taken here (they can only concern
// the screen model, which is rebuilt); anything else ends the holder as Node would.
process.on('uncaughtException', (error) => {
  if (isXtermError(error)) {
    screen.recover(error);
    return;
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

let daemon: Socket | undefined;
let exitInfo: ExitInfo | undefined;
const paused = { screen: false, daemon: false };
let daemonStuckTimer: NodeJS.Timeout | undefined;

function onScreenProgress(): void {
  lastLineProgress();
  if (paused.screen && screen.backlog < SCREEN_LOW_WATER) {
    paused.screen = false;
    updatePause();
  }
}

function updatePause(): void {
  if (paused.screen || paused.daemon) term.pause();
  else term.resume();
}

function send(frame: Buffer): void {
  if (!daemon || daemon.destroyed) return;
  daemon.write(frame);
  if (!paused.daemon && daemon.writableLength > DAEMON_HIGH_WATER) {
    paused.daemon = true;
    updatePause();
    const stuck = daemon;
    daemonStuckTimer = setTimeout(() => stuck.destroy(), DAEMON_STUCK_MS);
  }
}

// Output goes out in batches: one frame to the daemon and one parser write per batch,
// not per PTY read (a flood arrives in 4 KiB reads, and every frame costs a syscall
// here, a decode and a WebSocket message per client in the daemon). A batch goes out
// on the next turn of the event loop, unless a stream is under way (the last batch was
// at least STREAMING_BYTES and under COALESCE_MS ago): then reads are gathered for up
// to COALESCE_MS or COALESCE_BYTES. A keystroke echo or a TUI redraw is never held
// back. The daemon gets each batch at once; parsing runs asynchronously behind it.
const COALESCE_MS = 2;
const COALESCE_BYTES = 64 * 1024;
const STREAMING_BYTES = 1024;
let pending: Buffer[] = [];
let pendingBytes = 0;
let lastFlushAt = 0;
let lastFlushBytes = 0;
let scheduled: { immediate?: NodeJS.Immediate; timeout?: NodeJS.Timeout } | undefined;

function flushOutput(): void {
  if (scheduled) {
    if (scheduled.immediate) clearImmediate(scheduled.immediate);
    if (scheduled.timeout) clearTimeout(scheduled.timeout);
    scheduled = undefined;
  }
  if (pending.length === 0) return;
  const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
  pending = [];
  pendingBytes = 0;
  lastFlushAt = performance.now();
  lastFlushBytes = data.length;
  ring.write(data);
  screen.write(data);
  if (!paused.screen && screen.backlog > SCREEN_HIGH_WATER) {
    paused.screen = true;
    updatePause();
  }
  send(encodeFrame(FrameKind.output, {}, data));
  scheduleLastLine();
}

// The screen's last line with text (`ctl ls` LAST OUTPUT), from the model: output
// stripped of its escapes leaves fragments (ESC 7 became "7"). Read after the parser
// has moved on (never by writing to the model, which would move snapshot points), sent
// when it changes, at most every LAST_LINE_MS, and on every new connection after the hello.
const LAST_LINE_MS = 250;
let lastLineSent: string | undefined;
let lastLineTimer: NodeJS.Timeout | undefined;
let lastLineDue = false;
/** Run once the model has parsed everything (the exit waits for the final screen). */
let whenCaughtUp: Array<() => void> = [];
function sendLastLine(force: boolean): void {
  const line = screen.lastLine();
  if (line === undefined || (!force && line === lastLineSent)) return;
  lastLineSent = line;
  send(encodeFrame(FrameKind.status, { lastLine: line }));
}
function scheduleLastLine(): void {
  if (lastLineTimer) return;
  lastLineTimer = setTimeout(() => {
    lastLineTimer = undefined;
    if (screen.backlog === 0) sendLastLine(false);
    else lastLineDue = true;
  }, LAST_LINE_MS);
}
function lastLineProgress(): void {
  if (lastLineDue) {
    lastLineDue = false;
    sendLastLine(false);
  }
  if (whenCaughtUp.length > 0 && screen.backlog === 0) {
    const waiting = whenCaughtUp;
    whenCaughtUp = [];
    sendLastLine(false);
    for (const run of waiting) run();
  }
}

term.onData((d) => {
  const chunk = d as unknown as Buffer;
  pending.push(chunk);
  pendingBytes += chunk.length;
  if (pendingBytes >= COALESCE_BYTES) flushOutput();
  else if (!scheduled) {
    const streaming = lastFlushBytes >= STREAMING_BYTES && performance.now() - lastFlushAt < COALESCE_MS;
    scheduled = streaming ? { timeout: setTimeout(flushOutput, COALESCE_MS) } : { immediate: setImmediate(flushOutput) };
  }
});

term.onExit(({ exitCode, signal }) => {
  flushOutput();
  const sigName = signal ? Object.entries(osConstants.signals).find(([, n]) => n === signal)?.[0] ?? null : null;
  exitInfo = { code: sigName ? null : exitCode, signal: sigName, status: sigName ? 128 + signal! : exitCode, at: Date.now() };
  // On disk first: if no daemon is connected now, the next one learns the exit from here.
  writeFileSync(config.exitPath, JSON.stringify(exitInfo), { mode: 0o600 });
  // The final screen's last line goes out before the exit; a model that is far behind
  // does not hold the exit back for more than EXIT_LINE_WAIT_MS. The exit carries the
  // scrollback, so the daemon saves it without asking (a round trip per exit).
  let exitSent = false;
  const sendExit = () => {
    if (exitSent) return;
    exitSent = true;
    send(encodeFrame(FrameKind.exit, { ...exitInfo!, scrollback: true }, ring.tail()));
  };
  if (screen.backlog === 0) {
    sendLastLine(false);
    sendExit();
  } else {
    whenCaughtUp.push(sendExit);
    setTimeout(sendExit, EXIT_LINE_WAIT_MS);
  }
});

function hello(): HolderHello {
  const h: HolderHello = { agent: config.agent, runId: config.runId, pid: term.pid, holderPid: process.pid, startedAt, cols: screen.cols, rows: screen.rows };
  if (exitInfo) h.exit = exitInfo;
  return h;
}

function handle(frame: Frame): void {
  // Replies must cover exactly the output sent before them.
  flushOutput();
  switch (frame.kind) {
    case FrameKind.input:
      if (!exitInfo) term.write(frame.bytes);
      break;
    case FrameKind.resize: {
      const cols = Number(frame.json.cols);
      const rows = Number(frame.json.rows);
      if (Number.isInteger(cols) && Number.isInteger(rows) && cols > 0 && rows > 0 && cols <= 1000 && rows <= 1000) {
        screen.resize(cols, rows);
        if (!exitInfo) term.resize(cols, rows);
      }
      break;
    }
    case FrameKind.signal:
      if (!exitInfo) term.kill(String(frame.json.signal));
      break;
    case FrameKind.snapshotRequest:
      screen.snapshot((at) => {
        // Everything read so far goes out first, so the tail (from the snapshot's offset
        // to here) ends exactly where the live output after this reply begins.
        flushOutput();
        send(encodeFrame(FrameKind.snapshot, { id: frame.json.id, screen: at.screen, cols: at.cols, rows: at.rows }, screen.bytesSince(at.offset)));
      });
      break;
    case FrameKind.logsRequest: {
      const n = Number(frame.json.bytes);
      send(encodeFrame(FrameKind.logs, { id: frame.json.id, total: ring.total }, ring.tail(Number.isFinite(n) && n >= 0 ? n : undefined)));
      break;
    }
    case FrameKind.release:
      if (exitInfo) shutdown();
      break;
    default:
      break;
  }
}

const server = createServer((sock) => {
  // One daemon at a time: a new connection means the old daemon is gone.
  daemon?.destroy();
  daemon = undefined;
  // Output read so far goes to the ring only: the hello must be the first frame on a
  // connection (the daemon seeds itself from the ring right after it), or the daemon
  // would drop the holder it just started, leaving the agent unsupervised.
  flushOutput();
  daemon = sock;
  clearTimeout(daemonStuckTimer);
  paused.daemon = false;
  updatePause();
  const decoder = new FrameDecoder();
  sock.on('data', (chunk) => {
    let frames: Frame[];
    try {
      frames = decoder.push(chunk);
    } catch (e) {
      process.stderr.write(`holder: dropping daemon connection: ${(e as Error).message}\n`);
      sock.destroy();
      return;
    }
    for (const f of frames) handle(f);
  });
  sock.on('drain', () => {
    if (paused.daemon && sock === daemon) {
      clearTimeout(daemonStuckTimer);
      paused.daemon = false;
      updatePause();
    }
  });
  sock.on('error', () => sock.destroy());
  sock.on('close', () => {
    if (sock !== daemon) return;
    daemon = undefined;
    clearTimeout(daemonStuckTimer);
    paused.daemon = false;
    updatePause();
  });
  sock.write(encodeFrame(FrameKind.hello, { ...hello() }));
  sendLastLine(true);
});

function shutdown(): void {
  server.close();
  rmSync(config.socketPath, { force: true });
  rmSync(config.exitPath, { force: true });
  screen.dispose();
  daemon?.end();
  setTimeout(() => process.exit(0), 50).unref();
}

// The holder runs in its own session; a hangup of whoever started it is not its business.
process.on('SIGHUP', () => {});
process.on('SIGTERM', () => {
  if (!exitInfo) term.kill('SIGHUP');
  shutdown();
});

const oldMask = process.umask(0o077);
server.listen(config.socketPath, () => {
  process.umask(oldMask);
  reportReady({ ok: true, pid: term.pid, holderPid: process.pid });
});
server.on('error', (e) => {
  reportReady({ ok: false, error: `cannot listen on ${config.socketPath}: ${e.message}` });
  term.kill('SIGKILL');
  process.exit(70);
});
