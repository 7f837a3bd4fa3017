// One agent's terminal: xterm.js on the attach WebSocket (docs/api.md). The daemon sends
// the current screen first, then raw output; keys and resizes go back unless read-only.
// The tab takes no more than it can draw: when xterm falls behind (an agent printing
// faster than the page can parse) it asks the daemon for screens instead of bytes, and
// gets the agent's screen a few times a second until the output calms down, then live
// output again; when hidden it asks the daemon to hold the stream, and once visible it
// asks for the current screen afresh. So a flood costs the browser a few small screens
// a second, not every byte, and the agent's CPU is not taken by a browser drawing what
// nobody can read at that speed.
import { Terminal } from '@xterm/xterm';
import { attachUrl } from './api.js';

const FONT_SIZE = 14;
const FONT_FAMILY = 'ui-monospace, "DejaVu Sans Mono", monospace';
/** Output handed to xterm since the last screen and not parsed yet beyond which the tab asks for screens. */
export const BEHIND_BYTES = 256 * 1024;
/**
 * Output arriving faster than this (bytes per FLOOD_WINDOW_MS) is a flood nobody reads line
 * by line: the tab asks for screens even if xterm keeps up for now.
 */
const FLOOD_BYTES = 1024 * 1024;
const FLOOD_WINDOW_MS = 500;
/** In screen mode the daemon sends a screen at most every 250 ms; this long without one, the tab says it is live again. */
const SCREENS_QUIET_MS = 1000;
/** The tab acknowledges what it has consumed (drawn or skipped) every this many bytes, and when drawn up. */
const ACK_EVERY_BYTES = 64 * 1024;

export interface TerminalView {
  close(): void;
}

/** The cell size of the terminal's font, measured once on a hidden line of text. */
function cellSize(): { width: number; height: number } {
  const probe = document.createElement('span');
  probe.style.cssText = `position:absolute;visibility:hidden;white-space:pre;font-family:${FONT_FAMILY};font-size:${FONT_SIZE}px;line-height:normal`;
  probe.textContent = 'W'.repeat(40);
  document.body.append(probe);
  const r = probe.getBoundingClientRect();
  probe.remove();
  return { width: r.width / 40, height: Math.ceil(r.height) };
}

/** How many columns and rows fit in the element. */
function fit(el: HTMLElement): { cols: number; rows: number } {
  const cell = cellSize();
  return {
    cols: Math.max(20, Math.floor((el.clientWidth - 8) / cell.width)),
    rows: Math.max(5, Math.floor((el.clientHeight - 8) / cell.height)),
  };
}

export function openTerminal(el: HTMLElement, name: string, readOnly: boolean, onStatus: (text: string, isError?: boolean) => void): TerminalView {
  el.replaceChildren();
  const size = fit(el);
  const term = new Terminal({ cols: size.cols, rows: size.rows, fontSize: FONT_SIZE, fontFamily: FONT_FAMILY, disableStdin: readOnly, scrollback: 1000, convertEol: false });
  term.open(el);
  const query: Record<string, string | number> = readOnly ? { readOnly: 1 } : { cols: size.cols, rows: size.rows };
  const ws = new WebSocket(attachUrl(name, query));
  ws.binaryType = 'arraybuffer';
  const encoder = new TextEncoder();
  let closedByUs = false;
  onStatus(`attaching to ${name}…`);

  // Bytes given to xterm and not parsed yet, and of them those given since the latest
  // screen (what earlier screens made stale is parsed too, but no longer counts as
  // behind). `asked`: the daemon was asked to hold the stream (hidden) or for screens
  // (behind); output that arrives meanwhile is dropped until the next screen replaces it.
  let unparsed = 0;
  let behind = 0;
  let asked: 'hold' | 'screens' | undefined;
  let resyncTimer: ReturnType<typeof setTimeout> | undefined;
  let statusTimer: ReturnType<typeof setTimeout> | undefined;
  /** The next resync screen is the one this tab asked for (shown again), not one for falling behind. */
  let resyncAsked = false;
  // Output consumed since the last screen, and what of it the daemon was told: it counts
  // the rest as this tab's backlog, wherever it is on the way (docs/api.md, attach).
  let screens = 0;
  let consumed = 0;
  let acked = 0;
  const control = (msg: { type: 'hold' | 'resync' | 'screens' } | { type: 'ack'; bytes: number; screens: number }) => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify(msg));
  const consume = (n: number) => {
    consumed += n;
    if (consumed - acked >= ACK_EVERY_BYTES || behind === 0) {
      acked = consumed;
      control({ type: 'ack', bytes: consumed, screens });
    }
  };
  const ask = (want: 'hold' | 'screens') => {
    if (asked === want) return;
    asked = want;
    control({ type: want });
  };
  /** Shown again after a hold: the current screen, once xterm has parsed what it had. */
  const resyncWhenReady = () => {
    if (asked !== 'hold' || unparsed > 0 || document.hidden || resyncTimer !== undefined) return;
    resyncTimer = setTimeout(() => {
      resyncTimer = undefined;
      if (asked === 'hold' && unparsed === 0 && !document.hidden) {
        resyncAsked = true;
        control({ type: 'resync' });
      }
    }, 0);
  };
  /** Output bytes are acknowledged once drawn; a screen's text is not output (`counted` false). */
  const draw = (data: string | Uint8Array, counted = true) => {
    const n = typeof data === 'string' ? data.length : data.byteLength;
    const epoch = screens;
    unparsed += n;
    behind += n;
    term.write(data, () => {
      unparsed -= n;
      if (epoch === screens) {
        behind -= n;
        if (counted) consume(n);
      }
      resyncWhenReady();
    });
    if (behind > BEHIND_BYTES && !asked) ask('screens');
  };
  let windowStart = 0;
  let windowBytes = 0;
  const flooding = (n: number) => {
    const now = performance.now();
    if (now - windowStart > FLOOD_WINDOW_MS) {
      windowStart = now;
      windowBytes = 0;
    }
    windowBytes += n;
    return windowBytes > FLOOD_BYTES;
  };
  const onVisibility = () => {
    if (document.hidden) ask('hold');
    else resyncWhenReady();
  };
  const attachedStatus = (note = '') => onStatus(`${readOnly ? 'watching' : 'attached to'} ${name}${note}`);
  document.addEventListener('visibilitychange', onVisibility);

  ws.addEventListener('message', (ev) => {
    if (typeof ev.data !== 'string') {
      const bytes = new Uint8Array(ev.data as ArrayBuffer);
      if (asked) consume(bytes.byteLength);
      else if (flooding(bytes.byteLength)) {
        consume(bytes.byteLength);
        ask('screens');
      } else draw(bytes);
      return;
    }
    const msg = JSON.parse(ev.data) as { type: string; reason?: string; cols?: number; rows?: number; data?: string; message?: string };
    if (msg.type === 'screen' || msg.type === 'logs') {
      // The screen redraws the agent's exact state on a cleared terminal of its size.
      asked = undefined;
      screens++;
      consumed = 0;
      acked = 0;
      behind = 0;
      // The reset goes in band (RIS): output still queued in xterm from before this screen
      // is parsed first and then wiped, instead of landing on the fresh screen
      // (term.reset() acts at once, ahead of the queue).
      if (msg.cols && msg.rows) term.resize(msg.cols, msg.rows);
      draw(`\x1bc${msg.data ?? ''}`, false);
      if (document.hidden) ask('hold');
      // The daemon found this tab 1 MiB behind: screens until the output calms down.
      else if (msg.reason === 'resync' && !resyncAsked) ask('screens');
      if (msg.reason === 'resync') resyncAsked = false;
      clearTimeout(statusTimer);
      if (msg.reason === 'screens') {
        // The daemon goes live again, unannounced, once the output calms down: no screen
        // for a while means that happened.
        attachedStatus(' (output faster than this tab can draw: showing its screen a few times a second)');
        statusTimer = setTimeout(() => attachedStatus(), SCREENS_QUIET_MS);
      } else {
        attachedStatus(msg.reason === 'resync' ? ' (resynced after falling behind)' : '');
      }
    } else if (msg.type === 'error') {
      onStatus(msg.message ?? 'error', true);
    }
  });
  ws.addEventListener('close', (ev) => {
    if (!closedByUs) onStatus(`detached: ${ev.reason || `connection closed (${ev.code})`}`, ev.code !== 1000);
  });

  const typed = term.onData((data) => {
    if (!readOnly && ws.readyState === WebSocket.OPEN) ws.send(encoder.encode(data));
  });
  // Resizes go to the agent (the most recently active client's size wins), debounced.
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (readOnly || ws.readyState !== WebSocket.OPEN) return;
      const s = fit(el);
      term.resize(s.cols, s.rows);
      ws.send(JSON.stringify({ type: 'resize', cols: s.cols, rows: s.rows }));
    }, 150);
  };
  window.addEventListener('resize', onResize);
  if (!readOnly) term.focus();

  return {
    close() {
      closedByUs = true;
      clearTimeout(resizeTimer);
      clearTimeout(resyncTimer);
      clearTimeout(statusTimer);
      document.removeEventListener('visibilitychange', onVisibility);
      window.removeEventListener('resize', onResize);
      typed.dispose();
      ws.close(1000, 'detached');
      term.dispose();
    },
  };
}
