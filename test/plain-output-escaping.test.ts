import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { agent, cleanup, CLI_MAIN, makeSandbox, spawnAgent, startDaemonProcess, waitFor, type Sandbox } from './daemon-harness.js';

/** Issue 19 class 4, and issue 18's "ctl ls shows 78": agent-controlled text in plain outputs. */
function ctl(sb: Sandbox, ...args: string[]) {
  return spawnSync(process.execPath, [CLI_MAIN, ...args], { env: { ...sb.env, COLUMNS: '400' }, encoding: 'utf8' });
}

const RLO = '\u202e';

test('ctl ls shows the last line of the screen, not the leftovers of escape sequences (ESC 7 / ESC 8)', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    // What Claude Code prints as it leaves: its screen restored with ESC 7 / ESC 8.
    await spawnAgent(sb, 'tui', ['sh', '-c', "printf 'bye from the agent\\n\\033[?1049h\\0337\\033[1;1Hx\\0338\\033[?1049l'; exit 0"]);
    const done = await waitFor('exited', async () => {
      const a = await agent(sb, 'tui');
      return a.state === 'exited' ? a : undefined;
    });
    assert.equal(done.lastLine, 'bye from the agent');
    const ls = ctl(sb, 'ctl', 'ls');
    assert.match(ls.stdout, /bye from the agent/);
    assert.doesNotMatch(ls.stdout, /78\s*$/m);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('ctl ls escapes bidi overrides and controls in LAST OUTPUT; --json keeps them exact', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'sly', ['sh', '-c', `printf 'safe ${RLO}txt.exe\\n'; exec sleep 300`]);
    await waitFor('its line', async () => ((await agent(sb, 'sly')).lastLine.includes('txt') ? true : undefined));
    const ls = ctl(sb, 'ctl', 'ls');
    assert.equal(ls.status, 0, ls.stderr);
    assert.ok(!ls.stdout.includes(RLO), 'no raw bidi override in ctl ls');
    assert.match(ls.stdout, /safe \\u202etxt\.exe/);
    const json = JSON.parse(ctl(sb, 'ctl', 'ls', '--json').stdout) as Array<{ lastLine: string }>;
    assert.equal(json[0]!.lastLine, `safe ${RLO}txt.exe`);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('history escapes C1 controls, escape sequences and bidi overrides from what an agent run carried', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    // The command line is recorded in the spawn event: ESC, a UTF-8 encoded C1 CSI, a bidi override.
    await spawnAgent(sb, 'marked', ['sh', '-c', `exit 0 # \x1b]0;title\x07 \u009b31m ${RLO}`]);
    await waitFor('exited', async () => ((await agent(sb, 'marked')).state === 'exited' ? true : undefined));
    const h = ctl(sb, 'history', '--agent', 'marked');
    assert.equal(h.status, 0, h.stderr);
    assert.match(h.stdout, /spawn/);
    for (const raw of ['\x1b', '\u009b', '\x07', RLO]) assert.ok(!h.stdout.includes(raw), `history printed ${JSON.stringify(raw)} raw`);
    // Shown, escaped (the command's own quoting writes ESC and BEL as \u001b, \u0007).
    assert.match(h.stdout, /\\u001b\]0;title\\u0007 \\x9b31m \\u202e/);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('an error quoting a name the user gave escapes it', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    const r = ctl(sb, 'ctl', 'logs', `x${RLO}y`);
    assert.notEqual(r.status, 0);
    assert.ok(!r.stderr.includes(RLO), r.stderr);
    assert.match(r.stderr, /x\\u202ey/);
  } finally {
    await cleanup(sb, daemon);
  }
});
