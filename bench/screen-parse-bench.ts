/**
 * The screen model's parser alone (@xterm/headless), the ceiling of the holder's output
 * path: MB/s for each way of feeding it, side by side in one run.
 * Run: npx tsc -p tsconfig.json && node dist/bench/screen-parse-bench.js [--mb N] [--runs N]
 */
import { StringDecoder } from 'node:string_decoder';
import xtermHeadless from '@xterm/headless';
import { ScreenModel } from '../src/terminal/screen.js';
import { machineLine, median } from './stats.js';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  return i === -1 ? dflt : Number(argv[i + 1]);
};
const MB = flag('mb', 30);
const RUNS = flag('runs', 3);
const BYTES = MB * 1_000_000;

/** What the daemon benchmark prints: 80-byte lines, after the PTY's \n → \r\n. */
function plainLines(): Buffer {
  const line = Buffer.from(`${'x'.repeat(79)}\r\n`);
  return Buffer.concat(Array.from({ length: Math.ceil(BYTES / line.length) }, () => line)).subarray(0, BYTES);
}

/** A TUI-like mix: SGR colours, cursor moves, erases, 2- and 3-byte UTF-8. */
function tuiMix(): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < BYTES; i++) {
    const s = `\x1b[3${i % 8}m${i} \u00e9\u4e2d\x1b[1;4${(i * 3) % 8}m${'ab\u00fc'.repeat(i % 23)}\x1b[0m\x1b[K\r\n${i % 11 === 0 ? `\x1b[${1 + (i % 24)};${1 + ((i * 7) % 70)}H<${i}>` : ''}`;
    const b = Buffer.from(s);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).subarray(0, BYTES);
}

/** A build log: coloured lines with UTF-8 and line erases, no cursor moves. */
function colouredLog(): Buffer {
  const parts: Buffer[] = [];
  let n = 0;
  for (let i = 0; n < BYTES; i++) {
    const b = Buffer.from(`\x1b[3${i % 8}m[${i}]\x1b[0m compiling m\u00f6dule ${'src/'.repeat(i % 9)}\u4e2d.ts\x1b[K\r\n`);
    parts.push(b);
    n += b.length;
  }
  return Buffer.concat(parts).subarray(0, BYTES);
}

type Feed = 'bytes' | 'string';

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += size) out.push(data.subarray(off, off + size));
  return out;
}

/** Raw @xterm/headless, as configured by the options, fed every chunk at once. */
function rawRun(data: Buffer[], scrollback: number, feed: Feed): Promise<number> {
  const term = new xtermHeadless.Terminal({ cols: 80, rows: 24, scrollback, allowProposedApi: true });
  const decoder = new StringDecoder('utf8');
  const start = performance.now();
  for (const c of data) term.write(feed === 'bytes' ? c : decoder.write(c));
  return new Promise((resolve) =>
    term.write('', () => {
      const ms = performance.now() - start;
      term.dispose();
      resolve(ms);
    }),
  );
}

/** The holder's model (src/terminal/screen.ts), with its per-write accounting. */
function modelRun(data: Buffer[]): Promise<number> {
  const model = new ScreenModel(80, 24);
  const start = performance.now();
  for (const c of data) model.write(c);
  return new Promise((resolve) =>
    model.whenParsed(() => {
      const ms = performance.now() - start;
      model.dispose();
      resolve(ms);
    }),
  );
}

async function main(): Promise<void> {
  console.log(`# Screen model parser: ${MB} MB per case, median of ${RUNS} runs\n`);
  console.log(`Machine: ${machineLine()}. Command: \`node dist/bench/screen-parse-bench.js --mb ${MB} --runs ${RUNS}\`\n`);
  const inputs = { 'plain 80-byte lines': plainLines(), 'coloured log (SGR, UTF-8, EL)': colouredLog(), 'TUI mix (SGR, UTF-8, a cursor move every 11 lines)': tuiMix() };
  const cases: Array<{ label: string; run: (d: Buffer) => Promise<number> }> = [];
  for (const size of [4096, 65536, 262144]) {
    const kb = `${size / 1024} KiB`;
    cases.push({ label: `scrollback 0, Uint8Array, ${kb}`, run: (d) => rawRun(chunks(d, size), 0, 'bytes') });
    cases.push({ label: `scrollback 0, string, ${kb}`, run: (d) => rawRun(chunks(d, size), 0, 'string') });
    cases.push({ label: `scrollback 1000, Uint8Array, ${kb}`, run: (d) => rawRun(chunks(d, size), 1000, 'bytes') });
  }
  cases.push({ label: 'ScreenModel (holder: skips text that scrolls off), 64 KiB', run: (d) => modelRun(chunks(d, 65536)) });
  console.log(`| case | ${Object.keys(inputs).join(' MB/s | ')} MB/s |`);
  console.log(`|---|${Object.keys(inputs).map(() => '---|').join('')}`);
  for (const c of cases) {
    const cells: string[] = [];
    for (const data of Object.values(inputs)) {
      const ms: number[] = [];
      for (let r = 0; r < RUNS; r++) ms.push(await c.run(data));
      cells.push((BYTES / 1e6 / (median(ms) / 1000)).toFixed(1));
    }
    console.log(`| ${c.label} | ${cells.join(' | ')} |`);
  }
}

await main();
