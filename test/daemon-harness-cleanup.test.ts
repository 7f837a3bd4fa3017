import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { sleep } from './daemon-harness.js';

/** Running, not a zombie (a dead child of a dead parent waits here for a reaper). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

const HARNESS = fileURLToPath(new URL('./daemon-harness.js', import.meta.url));

/** Issue 19, item 7: a bench or test that dies does not leave its daemon and agents running. */
test('a process that started a daemon through the harness and then crashes leaves no daemon or agent behind', async () => {
  const script = `
    const h = await import(${JSON.stringify(HARNESS)});
    const sb = h.makeSandbox();
    const d = await h.startDaemonProcess(sb);
    const a = await h.spawnAgent(sb, 'left', ['sleep', '300']);
    process.stdout.write(JSON.stringify({ daemon: d.pid, holder: a.holderPid, agent: a.pid }) + '\\n');
    throw new Error('the bench failed');
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  assert.notEqual(r.status, 0);
  const pids = JSON.parse(r.stdout.trim()) as { daemon: number; holder: number; agent: number };
  await sleep(300);
  for (const [what, pid] of Object.entries(pids)) assert.equal(running(pid), false, `the ${what} (pid ${pid}) was left running`);
});
