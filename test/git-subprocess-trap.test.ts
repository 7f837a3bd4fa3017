import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gitSubprocessTrap, sweepLeftTraps } from '../src/worktree/git-subprocess-trap.js';

/** A pid that is certainly not running: a child that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

test('the trap refuses: a git started from its exec path exits 1 with the reason', () => {
  const dir = gitSubprocessTrap();
  const r = spawnSync(join(dir, 'git'), ['status'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /refused/);
  assert.ok(dir.includes(`celistra-git-trap-${process.pid}-`), dir);
});

test("a dead process's trap is swept, a living one's and an unnamed fresh one are kept, a link is never followed", () => {
  const root = mkdtempSync(join(tmpdir(), 'trap-sweep-'));
  try {
    const dead = join(root, `celistra-git-trap-${deadPid()}-abc`);
    const alive = join(root, `celistra-git-trap-${process.pid}-def`);
    const unnamedFresh = join(root, 'celistra-git-trap-xyz123');
    const unnamedOld = join(root, 'celistra-git-trap-old456');
    for (const d of [dead, alive, unnamedFresh, unnamedOld]) {
      mkdirSync(d);
      writeFileSync(join(d, 'git'), '#!/bin/sh\n');
    }
    const dayAgo = (Date.now() - 25 * 3600 * 1000) / 1000;
    utimesSync(unnamedOld, dayAgo, dayAgo);
    // A dead-looking name that is a link to something that must survive.
    const precious = join(root, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'keep'), 'x');
    symlinkSync(precious, join(root, `celistra-git-trap-${deadPid()}-link`));

    assert.equal(sweepLeftTraps(root), 2);
    assert.equal(existsSync(dead), false);
    assert.equal(existsSync(unnamedOld), false);
    assert.equal(existsSync(alive), true);
    assert.equal(existsSync(unnamedFresh), true);
    assert.equal(existsSync(join(precious, 'keep')), true);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a CLI killed by a signal leaves a trap that the next process sweeps', () => {
  // The child makes its trap and is SIGKILLed before its exit handler can run.
  const script = `import(${JSON.stringify(new URL('../src/worktree/git-subprocess-trap.js', import.meta.url).href)}).then((m) => { process.stdout.write(m.gitSubprocessTrap()); process.kill(process.pid, 'SIGKILL'); })`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.signal, 'SIGKILL');
  const left = r.stdout;
  assert.ok(existsSync(left), `the killed process left ${left}`);
  sweepLeftTraps(tmpdir());
  assert.equal(existsSync(left), false);
});
