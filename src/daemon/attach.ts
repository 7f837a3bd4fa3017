import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import { CelistraError } from '../policy/errors.js';
import { OutputFilter } from '../terminal/output-filter.js';
import type { FanoutClient, StartPayload } from '../terminal/fanout.js';
import type { Supervisor } from './supervisor.js';
import { errorBody } from './http-error.js';

/** Input messages are keystrokes and pastes; a megabyte is far beyond either. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * WS /v1/agents/:name/attach — the terminal of one agent, for the CLI and the browser.
 * Server → client: a JSON text message `{type:"screen"|"logs", reason, cols, rows, data}`
 * first (and again on a resync, reason "resync", or in screen mode, reason "screens"),
 * then binary messages of raw output. Client → server: binary messages (keystrokes) or
 * JSON text `{type:"input", data}` / `{type:"resize", cols, rows}`, and the intake
 * controls `ack`, `hold`, `resync`, `screens`. The socket closes when the agent exits.
 */
export function createAttachHandler(supervisor: Supervisor) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });

  return function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    let name: string;
    let opts: { readOnly: boolean; replay: 'screen' | 'logs'; bytes?: number; cols?: number; rows?: number };
    try {
      const url = new URL(req.url ?? '/', 'http://celistra');
      const m = /^\/v1\/agents\/([^/]+)\/attach$/.exec(url.pathname);
      if (!m) throw new CelistraError('E_NOT_FOUND', `no WebSocket endpoint ${url.pathname}`);
      name = decodeURIComponent(m[1]!);
      const replay = url.searchParams.get('replay') ?? 'screen';
      if (replay !== 'screen' && replay !== 'logs') throw new CelistraError('E_USAGE', `replay must be screen or logs, not "${replay}"`);
      const num = (k: string) => {
        const v = url.searchParams.get(k);
        if (v === null) return undefined;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new CelistraError('E_USAGE', `${k} must be a non-negative integer, not "${v}"`);
        return n;
      };
      opts = { readOnly: url.searchParams.get('readOnly') === '1', replay, bytes: num('bytes'), cols: num('cols'), rows: num('rows') };
      const agent = supervisor.describe(name);
      if (agent.state !== 'running') throw new CelistraError('E_CONFLICT', `agent ${name} is not running (${agent.state})`);
    } catch (e) {
      const { status, body } = errorBody(e);
      const text = JSON.stringify(body);
      socket.end(`HTTP/1.1 ${status} Error\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, name, opts));
  };

  function serve(ws: WebSocket, name: string, opts: { readOnly: boolean; replay: 'screen' | 'logs'; bytes?: number; cols?: number; rows?: number }): void {
    let size = opts.cols && opts.rows ? { cols: opts.cols, rows: opts.rows } : undefined;
    // A terminal client gets the screen model's redraw, then live output through the
    // filter: nothing the agent prints reaches a person's terminal raw (queries, clipboard,
    // titles). A logs client gets the bytes as stored; `ctl logs` renders them as text.
    // What the user allowed this agent (ctl spawn --allow-terminal) passes, sanitized.
    const allow = supervisor.has(name) ? supervisor.describe(name).terminalAllow : [];
    let filter = opts.replay === 'screen' ? new OutputFilter('terminal', allow) : undefined;
    const safe = (data: Buffer) => (filter ? filter.push(data) : data);
    // A client that acknowledges what it has consumed (the browser: drawn or skipped) is
    // behind by what it has not acknowledged, wherever those bytes are — in this socket's
    // queue, the kernel's buffers, the browser's — so the fan-out's backpressure sees it.
    // Counted from each screen sent (`screens` tells an ack which screen it follows).
    const intake = { acking: false, sent: 0, acked: 0, screens: 0 };
    const client: FanoutClient = {
      bufferedAmount: () => ws.bufferedAmount + (intake.acking ? Math.max(0, intake.sent - intake.acked) : 0),
      sendOutput: (data) => {
        const out = safe(data);
        if (!out.length) return;
        ws.send(out, { binary: true });
        intake.sent += out.length;
      },
      sendStart: (start: StartPayload, reason) => {
        // A resync (or screen mode's next screen) starts from a fresh screen: what the
        // old filter was inside is gone.
        if (filter) filter = new OutputFilter('terminal', allow);
        const screen = filter ? new OutputFilter('terminal').push(Buffer.from(start.screen, 'utf8')).toString('utf8') : start.screen;
        ws.send(JSON.stringify({ type: start.kind, reason, cols: start.cols, rows: start.rows, data: screen }));
        intake.screens++;
        intake.sent = 0;
        intake.acked = 0;
        const bytes = safe(start.bytes);
        if (bytes.length) {
          ws.send(bytes, { binary: true });
          intake.sent += bytes.length;
        }
      },
      close: (code, reason) => ws.close(code, reason.slice(0, 120)),
    };
    const activate = () => {
      if (size && !opts.readOnly) supervisor.resize(name, size.cols, size.rows);
    };
    let detach: () => void;
    let flow: (want: 'hold' | 'resync' | 'screens') => void;
    try {
      activate();
      ({ detach, flow } = supervisor.attach(name, client, opts.replay, opts.bytes));
    } catch (e) {
      ws.close(4000 + (errorBody(e).status % 1000), (e as Error).message.slice(0, 120));
      return;
    }
    supervisor.audit('attach', name, { readOnly: opts.readOnly, replay: opts.replay });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
        if (isBinary) {
          if (opts.readOnly) return;
          activate();
          supervisor.input(name, buf);
          return;
        }
        const msg = JSON.parse(buf.toString('utf8')) as { type?: unknown; data?: unknown; cols?: unknown; rows?: unknown; bytes?: unknown; screens?: unknown };
        if (msg.type === 'resize') {
          if (typeof msg.cols !== 'number' || typeof msg.rows !== 'number') throw new CelistraError('E_USAGE', 'resize needs numeric cols and rows');
          size = { cols: msg.cols, rows: msg.rows };
          activate();
        } else if (msg.type === 'ack') {
          if (typeof msg.bytes !== 'number' || typeof msg.screens !== 'number') throw new CelistraError('E_USAGE', 'ack needs numeric bytes and screens');
          // An ack of the output after an earlier screen says nothing of this one's.
          if (msg.screens === intake.screens) {
            intake.acking = true;
            intake.acked = Math.max(intake.acked, msg.bytes);
          }
        } else if (msg.type === 'hold' || msg.type === 'resync') {
          // The client's own intake: stop sending it output (it is behind in drawing,
          // or hidden), then the current screen afresh and live output again.
          flow(msg.type);
        } else if (msg.type === 'screens') {
          // The client is behind in drawing: screens instead of bytes until the output
          // calms down (docs/api.md). A log reader has no screen to be given.
          if (opts.replay !== 'screen') throw new CelistraError('E_USAGE', 'screens needs replay=screen: a logs client has no screen to be sent');
          flow('screens');
        } else if (msg.type === 'input') {
          if (typeof msg.data !== 'string') throw new CelistraError('E_USAGE', 'input needs a string "data"');
          if (opts.readOnly) throw new CelistraError('E_USAGE', 'this client attached read-only');
          activate();
          supervisor.input(name, Buffer.from(msg.data, 'utf8'));
        } else {
          throw new CelistraError('E_USAGE', `unknown message type ${JSON.stringify(msg.type)}`);
        }
      } catch (e) {
        const message = e instanceof SyntaxError ? `malformed JSON message: ${e.message}` : (e as Error).message;
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', message }));
      }
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      detach();
      supervisor.audit('detach', name, {});
    });
  }
}
