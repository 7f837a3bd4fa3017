import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { openAuditLog } from '../src/audit/index.js';
import { agent, CLI_MAIN, cleanup, makeSandbox, record, render, sleep, spawnAgent, startDaemonProcess, waitFor } from './daemon-harness.js';

test('the most recently active client\'s size wins', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'sizer', ['sh', '-c', 'while read x; do echo "size=$(stty size)"; done']);
    const a = await sb.client.attach('sizer', { cols: 100, rows: 30 });
    const ra = record(a);
    await ra.first;
    const b = await sb.client.attach('sizer', { cols: 120, rows: 40 });
    const rb = record(b);
    const screenB = await rb.first;
    assert.deepEqual([screenB.cols, screenB.rows], [120, 40], 'the newest client sets the size');
    b.send(Buffer.from('\r'), { binary: true });
    await waitFor('B\'s size', () => ra.outputTail().includes('size=40 120') || undefined);
    a.send(Buffer.from('\r'), { binary: true });
    await waitFor('A\'s size after A typed', () => rb.outputTail().includes('size=30 100') || undefined);
    const ro = await sb.client.attach('sizer', { cols: 50, rows: 10, readOnly: 1 });
    await record(ro).first;
    a.send(JSON.stringify({ type: 'input', data: '\r' }));
    await sleep(300);
    assert.doesNotMatch(ra.outputTail().split('size=30 100').pop()!, /size=10 50/, 'a read-only client never resizes');
    a.close();
    b.close();
    ro.close();
  } finally {
    await cleanup(sb, daemon);
  }
});

test('ctl attach in a real terminal draws the screen, relays keys and detaches on Ctrl-\\', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'tui', ['sh', '-c', "printf '\\033[2J\\033[6;20HCENTER'; while read x; do printf '\\033[8;1Hgot %s' \"$x\"; done"]);
    await waitFor('drawn', async () => (await sb.client.logs('tui')).includes('CENTER') || undefined);
    const term = pty.spawn(process.execPath, [CLI_MAIN, 'ctl', 'attach', 'tui'], { cols: 80, rows: 24, env: sb.env as Record<string, string> });
    let seen = '';
    term.onData((d) => (seen += d));
    const exited = new Promise<number>((r) => term.onExit(({ exitCode }) => r(exitCode)));
    await waitFor('the screen', () => seen.includes('CENTER') || undefined);
    const lines = await render(80, 24, seen);
    assert.equal(lines[5]!.slice(19, 25), 'CENTER');
    term.write('hello\r');
    await waitFor('the echo of the keys', () => seen.includes('got hello') || undefined);
    term.write('\x1c');
    assert.equal(await exited, 0);
    assert.match(seen, /detached from tui/);
    assert.equal((await agent(sb, 'tui')).state, 'running', 'detaching leaves the agent running');
  } finally {
    await cleanup(sb, daemon);
  }
});

test('ctl logs --follow prints the scrollback, then new output until the agent exits', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'talker', ['sh', '-c', 'echo early; read x; echo "late $x"; exit 0']);
    await waitFor('early output', async () => (await sb.client.logs('talker')).includes('early') || undefined);
    const { spawn } = await import('node:child_process');
    const follow = spawn(process.execPath, [CLI_MAIN, 'ctl', 'logs', 'talker', '--follow'], { env: sb.env });
    let out = '';
    follow.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = new Promise<number | null>((r) => follow.once('exit', r));
    await waitFor('the scrollback', () => out.includes('early') || undefined);
    await sb.client.call('POST', '/v1/agents/talker/input', { data: 'bird\r' });
    assert.equal(await code, 0);
    assert.match(out, /early[\s\S]*late bird/);
  } finally {
    await cleanup(sb, daemon);
  }
});

test('the audit log records spawn, unsandboxed, attach, detach, kill, exit, restart, crashed-out and daemon start', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb, ['--restart-delay-ms', '20']);
  try {
    await spawnAgent(sb, 'plain', ['sleep', '300'], { backend: 'none' });
    const ws = await sb.client.attach('plain', {});
    await record(ws).first;
    ws.close();
    await sb.client.call('POST', '/v1/agents/plain/kill', { signal: 'INT' });
    await waitFor('stopped', async () => (await agent(sb, 'plain')).state === 'stopped' || undefined);
    await spawnAgent(sb, 'loop', ['sh', '-c', 'exit 1'], { autoRestart: true });
    // Six holder starts under a loaded CI machine can take well over 20 s; the crash
    // window (60 s) is what matters, not speed.
    await waitFor('crashed-out', async () => (await agent(sb, 'loop')).state === 'crashed-out' || undefined, 55_000);
    await sleep(100);
    const log = openAuditLog({ stateDir: sb.paths.stateDir });
    try {
      const rows = log.query({ limit: 1000 });
      const types = (agentName?: string) => new Set(rows.filter((r) => (agentName ? r.agent === agentName : r.agent === null)).map((r) => r.type));
      for (const t of ['spawn', 'unsandboxed', 'attach', 'detach', 'kill', 'exit']) assert.ok(types('plain').has(t as never), `plain: ${t}`);
      for (const t of ['spawn', 'exit', 'restart', 'crashed-out']) assert.ok(types('loop').has(t as never), `loop: ${t}`);
      assert.ok(types().has('daemon-start'));
      const kill = rows.find((r) => r.type === 'kill')!;
      assert.equal(kill.data.signal, 'SIGINT');
      assert.equal(log.verify().ok, true);
    } finally {
      log.close();
    }
  } finally {
    await cleanup(sb, daemon);
  }
});

test('daemon install writes a systemd user unit that keeps agents alive across daemon restarts', async () => {
  const sb = makeSandbox();
  try {
    const r = spawnSync(process.execPath, [CLI_MAIN, 'daemon', 'install'], { env: sb.env, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const unitPath = join(sb.env.XDG_CONFIG_HOME!, 'systemd', 'user', 'celistra.service');
    const unit = readFileSync(unitPath, 'utf8');
    assert.match(unit, /^ExecStart=.+ daemon$/m);
    assert.match(unit, /^KillMode=process$/m);
    assert.match(unit, /^NoNewPrivileges=yes$/m);
    assert.match(r.stdout, /systemctl --user enable --now celistra.service/);
    assert.match(r.stdout, /loginctl enable-linger/);
  } finally {
    await cleanup(sb);
  }
});

test('ctl attach whose terminal hangs up ends by the hangup, not a crash, and leaves the agent running', async () => {
  const sb = makeSandbox();
  const daemon = await startDaemonProcess(sb);
  try {
    await spawnAgent(sb, 'hup', ['sh', '-c', 'echo drawn; while read x; do echo "got $x"; done']);
    await waitFor('drawn', async () => (await sb.client.logs('hup')).includes('drawn') || undefined);
    const term = pty.spawn(process.execPath, [CLI_MAIN, 'ctl', 'attach', 'hup'], { cols: 80, rows: 24, env: sb.env as Record<string, string> });
    let seen = '';
    term.onData((d) => (seen += d));
    const exited = new Promise<{ exitCode: number; signal?: number }>((r) => term.onExit(r));
    await waitFor('the screen', () => seen.includes('drawn') || undefined);
    // Close the master side: a hangup (SIGHUP, then EIO on the terminal). node-pty's
    // UnixTerminal has destroy(); its IPty type does not.
    (term as unknown as { destroy(): void }).destroy();
    const { signal } = await exited;
    // The hangup's SIGHUP ends it, as any terminal program; never a crash of its own
    // (SIGABRT/SIGSEGV: Node's exit-time restore of a raw-mode terminal that is gone).
    assert.ok(signal === undefined || signal === 0 || signal === 1, `ctl attach died of signal ${signal}`);
    assert.equal((await agent(sb, 'hup')).state, 'running', 'the agent did not outlive the attach');
  } finally {
    await cleanup(sb, daemon);
  }
});
