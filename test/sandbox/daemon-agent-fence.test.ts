import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { backendByName } from '../../src/run/backend-selection.js';
import type { BackendName } from '../../src/backends/backend.js';
import { agent, cleanup, isAlive, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from '../daemon-harness.js';

for (const backend of ['landlock', 'bwrap'] as BackendName[]) {
  const caps = backendByName(backend).probe();
  test(`under ${backend}, an agent cannot reach the control socket or a holder socket, nor signal or ptrace the daemon or another agent`, { skip: caps.available ? false : `${backend}: ${caps.unavailableReason}` }, async () => {
    const sb = makeSandbox();
    const daemon = await startDaemonProcess(sb);
    try {
      const victim = await spawnAgent(sb, 'victim', ['sleep', '300'], { backend });
      const holderSock = readdirSync(`${sb.paths.runtimeDir}/holders`).find((f) => f.endsWith('.sock'))!;
      const probe = [
        `const net = require('net');`,
        `const tryConnect = (p) => new Promise((r) => { const s = net.connect(p); s.on('connect', () => { s.destroy(); r('connected'); }); s.on('error', (e) => r(e.code)); });`,
        `(async () => {`,
        `  console.log('control=' + await tryConnect(${JSON.stringify(sb.client.socketPath)}));`,
        `  console.log('holder=' + await tryConnect(${JSON.stringify(`${sb.paths.runtimeDir}/holders/${holderSock}`)}));`,
        `  for (const [what, pid] of [['daemon', ${daemon.pid}], ['victim', ${victim.pid}]]) { try { process.kill(pid, 'SIGTERM'); console.log(what + '-signal=sent'); } catch (e) { console.log(what + '-signal=' + e.code); } }`,
        `  console.log('probe-done');`,
        `})();`,
      ].join('\n');
      const ptraceProbe = [
        'import ctypes, sys',
        'libc = ctypes.CDLL(None, use_errno=True)',
        `for what, pid in (('daemon', ${daemon.pid}), ('victim', ${victim.pid})):`,
        '    r = libc.ptrace(16, pid, None, None)',
        "    print(what + '-ptrace=' + ('attached' if r == 0 else 'errno%d' % ctypes.get_errno()))",
        '    if r == 0: libc.ptrace(17, pid, None, None)',
        '    try:',
        "        open('/proc/%d/environ' % pid, 'rb').read()",
        "        print(what + '-environ=read')",
        '    except OSError as e:',
        "        print(what + '-environ=errno%d' % e.errno)",
        "print('ptrace-done')",
      ].join('\n');
      const sockBefore = statSync(sb.client.socketPath);
      const a = await spawnAgent(sb, 'attacker', [process.execPath, '-e', probe], { backend });
      assert.equal(a.backend, backend);
      await waitFor('the probe to finish', async () => (await sb.client.logs('attacker')).includes('probe-done') || undefined);
      const out = (await sb.client.logs('attacker')).toString();
      assert.doesNotMatch(out, /control=connected/, out);
      assert.doesNotMatch(out, /holder=connected/, out);
      assert.doesNotMatch(out, /daemon-signal=sent/, out);
      assert.doesNotMatch(out, /victim-signal=sent/, out);
      assert.match(out, /control=E\w+/);

      await spawnAgent(sb, 'tracer', ['python3', '-c', ptraceProbe], { backend });
      await waitFor('the ptrace probe to finish', async () => (await sb.client.logs('tracer')).includes('ptrace-done') || undefined);
      const traced = (await sb.client.logs('tracer')).toString();
      assert.doesNotMatch(traced, /-ptrace=attached/, traced);
      assert.doesNotMatch(traced, /-environ=read/, traced);
      assert.match(traced, /daemon-ptrace=errno\d+/);
      assert.ok(isAlive(daemon.pid));
      assert.equal((await agent(sb, 'victim')).state, 'running');
      assert.ok(isAlive(victim.pid!));
      const sockAfter = statSync(sb.client.socketPath);
      assert.equal(sockAfter.mode, sockBefore.mode);
      assert.equal(sockAfter.ino, sockBefore.ino);
    } finally {
      await cleanup(sb, daemon);
    }
  });
}
