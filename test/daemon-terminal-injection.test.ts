import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { agent, cleanup, CLI_MAIN, makeSandbox, sleep, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';
import { OutputFilter, TERMINAL_RESTORE } from '../src/terminal/output-filter.js';

/**
 * Issue 19, class 3: what an agent prints must not reach the attaching person's terminal
 * raw. The agent prints every sequence the review used, once a client is attached (so
 * they travel the live path, not only the redraw).
 */
const ATTACK: Array<[string, string]> = [
  ['OSC 52 clipboard write', '\x1b]52;c;Y2xpcGJvYXJkLXBheWxvYWQ=\x07'],
  ['OSC 52 clipboard read', '\x1b]52;c;?\x07'],
  ['OSC 4 colour read', '\x1b]4;1;?\x07'],
  ['OSC 10 foreground read', '\x1b]10;?\x1b\\'],
  ['OSC 11 background read', '\x1b]11;?\x07'],
  ['title', '\x1b]0;evil-title\x07'],
  ['title 2', '\x1b]2;evil-title\x1b\\'],
  ['OSC 7 cwd', '\x1b]7;file://evil/etc\x07'],
  ['OSC 8 hyperlink', '\x1b]8;;http://evil.example/\x07link\x1b]8;;\x07'],
  ['OSC 9 notification', '\x1b]9;evil-notice\x07'],
  ['OSC 777 notification', '\x1b]777;notify;evil;notice\x07'],
  ['OSC 1337', '\x1b]1337;SetUserVar=evil=eA==\x07'],
  ['DA1', '\x1b[c'],
  ['DA2', '\x1b[>c'],
  ['DA3', '\x1b[=c'],
  ['DSR status', '\x1b[5n'],
  ['DSR cursor', '\x1b[6n'],
  ['DECXCPR', '\x1b[?6n'],
  ['DECRQSS', '\x1bP$qm\x1b\\'],
  ['XTVERSION', '\x1b[>0q'],
  ['CSI 21t title report', '\x1b[21t'],
  ['CSI 14t size report', '\x1b[14t'],
  ['DECRQM', '\x1b[?2004$p'],
  ['ENQ', '\x05'],
  ['DECID', '\x1bZ'],
  ['C1 CSI in UTF-8', '\xc2\x9b6n'],
  ['C1 OSC in UTF-8', '\xc2\x9d0;evil-title\xc2\x9c'],
  // Modes the agent leaves on, and an unterminated DCS at the very end.
  ['modes', '\x1b[?1049h\x1b[?1000h\x1b[?1006h\x1b(0\x1b[5;10r\x1b[?7l\x1b[?25l'],
];
/** Bytes none of which may reach a client, whatever surrounds them. */
const FORBIDDEN: Array<[string, string]> = [
  ['OSC', '\x1b]'],
  ['DCS', '\x1bP'],
  ['APC', '\x1b_'],
  ['PM', '\x1b^'],
  ['SOS', '\x1bX'],
  ['DA1', '\x1b[c'],
  ['DA2', '\x1b[>c'],
  ['DA3', '\x1b[=c'],
  ['DSR 5', '\x1b[5n'],
  ['DSR 6', '\x1b[6n'],
  ['DECXCPR', '\x1b[?6n'],
  ['XTVERSION', '\x1b[>0q'],
  ['21t', '\x1b[21t'],
  ['14t', '\x1b[14t'],
  ['DECRQM', '$p'],
  ['ENQ', '\x05'],
  ['DECID', '\x1bZ'],
  ['C1 CSI', '\xc2\x9b'],
  ['C1 OSC', '\xc2\x9d'],
  ['clipboard payload', 'Y2xpcGJvYXJkLXBheWxvYWQ='],
  ['title text', 'evil-title'],
  ['notification text', 'evil-notice'],
];

function attackScript(sb: Sandbox): string {
  const body = ATTACK.map(([, seq]) => seq).join('') + 'after-the-sequences\r\n' + '\x1bPq#0;2;0;0;0';
  // Bytes as octal escapes for printf, so the script file itself is plain text.
  const octal = [...Buffer.from(body, 'latin1')].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join('');
  const path = join(sb.workspace, 'attack.sh');
  writeFileSync(path, `printf '${octal}'\n`);
  return path;
}

function assertClean(capture: string, where: string): void {
  for (const [what, bytes] of FORBIDDEN) assert.ok(!capture.includes(bytes), `${where}: ${what} reached the client`);
}

test('a raw capture of ctl attach holds none of the sequences the agent printed, and detach restores the terminal', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const script = attackScript(sb);
    await spawnAgent(sb, 'evil', ['sh', '-c', `read go; sh ${script}; exec sleep 300`]);
    const term = pty.spawn(process.execPath, [CLI_MAIN, 'ctl', 'attach', 'evil'], { cols: 80, rows: 24, env: sb.env as Record<string, string>, encoding: null });
    const chunks: Buffer[] = [];
    term.onData((d) => chunks.push(Buffer.from(d as unknown as Buffer)));
    const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
    const capture = () => Buffer.concat(chunks).toString('latin1');
    await waitFor('attached', () => (sb.client && chunks.length > 0 ? true : undefined));
    await sleep(300);
    term.write('go\r');
    await waitFor('the sequences printed', () => (capture().includes('after-the-sequences') ? true : undefined));
    await sleep(300);
    term.write('\x1c');
    assert.equal(await exited, 0);
    const all = capture();
    assertClean(all, 'ctl attach');
    const tail = all.slice(all.lastIndexOf('after-the-sequences'));
    assert.ok(tail.includes(TERMINAL_RESTORE), 'detach restores the modes the agent changed');
    assert.ok(all.indexOf(TERMINAL_RESTORE) > all.lastIndexOf('after-the-sequences'), 'the restore comes after the agent output');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('ctl logs prints the agent output as text; --raw gives the bytes as printed', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const script = attackScript(sb);
    await spawnAgent(sb, 'evil', ['sh', '-c', `sh ${script}; exec sleep 300`]);
    await waitFor('output', async () => ((await sb.client.logs('evil')).includes('after-the-sequences') ? true : undefined));
    const text = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'logs', 'evil'], { env: sb.env, encoding: 'latin1' });
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /after-the-sequences/);
    assertClean(text.stdout, 'ctl logs');
    assert.ok(!text.stdout.includes('\x1b'), 'no escape sequence at all in text mode');
    const raw = spawnSync(process.execPath, [CLI_MAIN, 'ctl', 'logs', 'evil', '--raw'], { env: sb.env, encoding: 'latin1' });
    assert.ok(raw.stdout.includes('\x1b]52;c;'), '--raw is exact');
    assert.equal((await agent(sb, 'evil')).state, 'running');
  } finally {
    await cleanup(sb, daemon);
  }
});

test("an agent's cursor-position query is answered from the screen model, with no client attached", async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'asker', ['sh', '-c', "stty -echo -icanon; printf 'abc\\033[6n'; r=$(dd bs=1 count=6 2>/dev/null); printf '\\ngot:%s\\n' \"$r\" | tr '\\033' E; exec sleep 300"]);
    await waitFor('the reply', async () => ((await sb.client.logs('asker')).includes('got:') ? true : undefined), 10_000);
    assert.match((await sb.client.logs('asker')).toString('latin1'), /got:E\[1;4R/);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('the filter keeps drawing sequences and text, split anywhere', () => {
  const keep = 'héllo \x1b[1;31mred\x1b[0m \x1b[2J\x1b[10;5H\x1b[?1049h\x1b[?25l\x1b7\x1b8\x1b(0q\x1b(B\x1b[3 q\r\n';
  const input = Buffer.from(`${keep}\x1b]0;t\x07\x1b[6n`, 'utf8');
  for (let cut = 0; cut <= input.length; cut++) {
    const f = new OutputFilter('terminal');
    const out = Buffer.concat([f.push(input.subarray(0, cut)), f.push(input.subarray(cut))]).toString('utf8');
    assert.equal(out, keep, `cut at ${cut}`);
  }
});
