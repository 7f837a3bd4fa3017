import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorktreeLayout } from '../src/worktree/record.js';

// The daemon reads the task's HEAD and branch tip while the agent runs (its background
// diff stat). A check with lstat and then a read by path lets the agent swap a link in
// between: the read follows it, and its open acts on whatever is there (a FIFO's writer
// goes on; a pty the agent holds becomes the detached daemon's controlling terminal).

const COMMIT = 'a'.repeat(40);
const SHADOW = fileURLToPath(new URL('../src/worktree/shadow.js', import.meta.url));
// renameat2(RENAME_EXCHANGE) in a loop, as the agent can from its fence: the name flips
// between the real file and a link to the FIFO, never missing.
const RACER = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
while True:
    libc.renameat2(-100, a, -100, b, 2)
`;
const python = spawnSync('python3', ['-c', 'import ctypes'], { stdio: 'ignore' }).status === 0;
const skip = process.platform !== 'linux' ? 'renameat2 is Linux only' : !python ? 'python3 (with ctypes) is needed to race renames: not found' : false;

/**
 * The reads run in a child for 2 s: an open that follows the link to the FIFO blocks once
 * the writer is gone, and would hang this test's own thread (as it hangs the daemon's).
 */
async function neverOpened(file: (l: WorktreeLayout) => string, call: string): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'celistra-ref-race-'));
  const layout: WorktreeLayout = { container: root, recordFile: join(root, 'record.json'), shadowDir: join(root, 'shadow'), adminDir: join(root, 'admin') };
  mkdirSync(join(layout.shadowDir, 'refs', 'heads'), { recursive: true });
  mkdirSync(layout.adminDir);
  const target = file(layout);
  writeFileSync(target, `${COMMIT}\n`);
  const fifo = join(root, 'fifo');
  execFileSync('mkfifo', [fifo]);
  symlinkSync(fifo, `${target}.alt`);
  const marker = join(root, 'fifo-opened');
  // The writer's open waits for a reader; it writes nothing (a reader closing at once would kill it first).
  const writer = spawn('sh', ['-c', `: > '${fifo}' && touch '${marker}'`], { stdio: 'ignore' });
  const racer = spawn('python3', ['-c', RACER, target, `${target}.alt`], { stdio: 'ignore' });
  try {
    await sleep(300);
    // A refusal (the link seen) is fine: only an open of the FIFO is not.
    const reader = `import(${JSON.stringify(SHADOW)}).then((m) => { const l = ${JSON.stringify(layout)}; const until = Date.now() + 2000;
      while (Date.now() < until) { try { m.${call}; } catch {} } })`;
    const r = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', reader], { stdio: 'ignore', timeout: 15_000 });
      child.on('exit', (code) => resolve(code));
    });
    await sleep(200);
    assert.equal(existsSync(marker), false, `reading ${target} opened the FIFO the agent swapped in: its writer went on`);
    assert.equal(r, 0, `reading ${target} hung in the FIFO the agent swapped in`);
  } finally {
    racer.kill('SIGKILL');
    writer.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  }
}

test('the task HEAD read while the agent swaps it for a link to a FIFO never opens the FIFO', { skip }, async () => {
  await neverOpened((l) => join(l.adminDir, 'HEAD'), 'readWorktreeHead(l)');
});

test('the agent branch tip read while the agent swaps it for a link to a FIFO never opens the FIFO', { skip }, async () => {
  await neverOpened((l) => join(l.shadowDir, 'refs', 'heads', 'b'), "readAgentTip(l, 'b')");
});
