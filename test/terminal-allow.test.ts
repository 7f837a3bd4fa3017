/**
 * Issue 19, class 3 (per-agent allow): titles, clipboard writes and notifications pass to
 * an attached terminal only where the user allowed them for that agent, re-encoded and
 * sanitized; clipboard reads and every other string sequence never pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OutputFilter, type TerminalAllowance } from '../src/terminal/output-filter.js';
import { parseTerminalAllow } from '../src/terminal/allow.js';
import { agent, cleanup, makeSandbox, record, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';
import { login, loginLink, startDashboardDaemon, upgrade, type DashboardDaemon } from './dashboard-support.js';

const ST = '\x1b\\';
const ALL: TerminalAllowance[] = ['title', 'clipboard', 'notify'];

function through(input: string, allow: TerminalAllowance[], mode: 'terminal' | 'text' = 'terminal'): string {
  return new OutputFilter(mode, allow).push(Buffer.from(input, 'latin1')).toString('latin1');
}

/** UTF-8 text as the latin1 string of its bytes, as the filter reads it. */
const bytes = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

const CASES: Array<[string, string, string]> = [
  ['title (BEL)', '\x1b]0;my title\x07', `\x1b]0;my title${ST}`],
  ['title 2 (ST)', `\x1b]2;build ok${ST}`, `\x1b]2;build ok${ST}`],
  ['title with controls and a bidi override', bytes('\x1b]2;ev\x01il\u202etitle\u0085!\x07'), `\x1b]2;eviltitle!${ST}`],
  ['title in C1 form', '\xc2\x9d0;t\xc2\x9c', `\x1b]0;t${ST}`],
  ['clipboard write', '\x1b]52;c;aGVsbG8=\x07', `\x1b]52;c;aGVsbG8=${ST}`],
  ['clipboard write, default selection', '\x1b]52;;aGk=\x07', `\x1b]52;c;aGk=${ST}`],
  ['clipboard read', '\x1b]52;c;?\x07', ''],
  ['clipboard, not base64', '\x1b]52;c;a b\x07', ''],
  ['notification (OSC 9)', '\x1b]9;tests passed\x07', `\x1b]9;tests passed${ST}`],
  ['OSC 9 progress (a command, not text)', '\x1b]9;4;1;50\x07', ''],
  ['notification (OSC 777)', '\x1b]777;notify;Agent;done\x07', `\x1b]777;notify;Agent;done${ST}`],
  ['OSC 777 other', '\x1b]777;preexec\x07', ''],
  ['colour read', '\x1b]4;1;?\x07', ''],
  ['hyperlink', '\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07', 'link'],
  ['cwd', '\x1b]7;file://evil/etc\x07', ''],
  ['iTerm2', '\x1b]1337;SetUserVar=evil=eA==\x07', ''],
  ['DCS', '\x1bP$qm\x1b\\', ''],
  ['escape inside a title', '\x1b]0;a\x1b[31mb\x07', ''],
];

test('with everything allowed, titles, clipboard writes and notifications pass re-encoded and sanitized; reads and other sequences never', () => {
  for (const [what, input, expected] of CASES) assert.equal(through(input, ALL), expected, what);
});

test('the allowed forms survive any split of the stream', () => {
  const input = CASES.map((c) => c[1]).join('x');
  const expected = CASES.map((c) => c[2]).join('x');
  const buf = Buffer.from(input, 'latin1');
  for (let cut = 0; cut <= buf.length; cut++) {
    const f = new OutputFilter('terminal', ALL);
    assert.equal(Buffer.concat([f.push(buf.subarray(0, cut)), f.push(buf.subarray(cut))]).toString('latin1'), expected, `cut at ${cut}`);
  }
});

test('only what is allowed passes; nothing by default; never in text mode (ctl logs)', () => {
  const input = '\x1b]0;T\x07\x1b]52;c;aGk=\x07\x1b]9;N\x07';
  assert.equal(through(input, []), '');
  assert.equal(through(input, ['title']), `\x1b]0;T${ST}`);
  assert.equal(through(input, ['clipboard']), `\x1b]52;c;aGk=${ST}`);
  assert.equal(through(input, ['notify']), `\x1b]9;N${ST}`);
  assert.equal(through(input, ALL, 'text'), '');
});

test('lengths are bounded: a long title is cut, an oversized clipboard write is dropped whole', () => {
  assert.equal(through(`\x1b]0;${'x'.repeat(5000)}\x07`, ALL), `\x1b]0;${'x'.repeat(256)}${ST}`);
  assert.equal(through(`\x1b]52;c;${'A'.repeat(2 * 1024 * 1024)}\x07after`, ALL), 'after');
});

test('--allow-terminal takes a comma list or an array and refuses unknown words', () => {
  assert.deepEqual(parseTerminalAllow('notify, title'), ['title', 'notify']);
  assert.deepEqual(parseTerminalAllow(['clipboard']), ['clipboard']);
  assert.deepEqual(parseTerminalAllow(undefined), []);
  assert.throws(() => parseTerminalAllow('title,read-clipboard'), /unknown terminal allowance "read-clipboard"/);
  assert.throws(() => parseTerminalAllow(42), /must be a list/);
});

test('an agent allowed title and clipboard: an attached terminal gets them sanitized, not its notifications or clipboard reads; the allowance survives a daemon restart', async () => {
  const sb = makeSandbox();
  let daemon = await startDaemonProcess(sb);
  try {
    const script = "read go; printf '\\033]0;agent\\001-title\\007\\033]52;c;aGk=\\007\\033]52;c;?\\007\\033]9;ping\\007marker-done\\n'; exec sleep 300";
    const spawned = await spawnAgent(sb, 'ok', ['sh', '-c', script], { terminalAllow: 'title,clipboard', backend: 'none' });
    assert.deepEqual(spawned.terminalAllow, ['title', 'clipboard']);
    const ws = await sb.client.attach('ok', { cols: 80, rows: 24 });
    const rec = record(ws);
    await rec.first;
    // It prints once attached (a line typed to it), so the bytes come live, through the filter.
    ws.send(Buffer.from('go\r'), { binary: true });
    await waitFor('the sequences', () => (rec.output().includes('marker-done') ? true : undefined), 15_000);
    const raw = rec.output().toString('latin1');
    assert.ok(raw.includes(`\x1b]0;agent-title${ST}`), JSON.stringify(raw));
    assert.ok(raw.includes(`\x1b]52;c;aGk=${ST}`), JSON.stringify(raw));
    assert.ok(!raw.includes('52;c;?'), 'a clipboard read never passes');
    assert.ok(!raw.includes('\x1b]9;'), 'notifications were not allowed');
    assert.ok(!raw.includes('\x01'), 'controls inside the title are gone');

    daemon.proc.kill('SIGKILL');
    await daemon.exited;
    daemon = await startDaemonProcess(sb);
    assert.deepEqual((await agent(sb, 'ok')).terminalAllow, ['title', 'clipboard']);
  } finally {
    await cleanup(sb, daemon);
  }
});

test("the dashboard's browser attach (TCP, session cookie) gets the same filtering and the same allowance", async () => {
  const sb = makeSandbox();
  let d: DashboardDaemon | undefined;
  try {
    d = await startDashboardDaemon(sb);
    const script = "read go; printf '\\033]0;evil-title\\007\\033]52;c;aGk=\\007\\033]52;c;?\\007\\033[c\\033[6n\\033]9;build\\002 done\\007marker-done\\n'; exec sleep 300";
    await spawnAgent(sb, 'web', ['sh', '-c', script], { terminalAllow: ['notify'], backend: 'none' });
    const cookie = await login(d, loginLink(sb));
    const ok = await upgrade(d, '/v1/agents/web/attach', { cookie, origin: d.origin });
    assert.ok(ok.ws, 'the browser attaches');
    ok.ws.pause();
    const rec = record(ok.ws);
    await rec.first;
    ok.ws.send(Buffer.from('go\r'), { binary: true });
    await waitFor('the sequences', () => (rec.output().includes('marker-done') ? true : undefined), 15_000);
    const raw = rec.output().toString('latin1');
    assert.ok(raw.includes(`\x1b]9;build done${ST}`), JSON.stringify(raw));
    for (const bad of ['evil-title', '\x1b]52', '\x1b[c', '\x1b[6n', '\x02']) assert.ok(!raw.includes(bad), `${JSON.stringify(bad)} reached the browser: ${JSON.stringify(raw)}`);
    ok.ws.close();
  } finally {
    await cleanup(sb, d?.daemon);
  }
});
