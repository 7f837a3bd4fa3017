#!/usr/bin/env node
// The README's test command. Builds, runs every test as the current user, then — when
// run as root with an unprivileged user available — runs the sandbox tests and the
// conformance suite again as that user, because real users are not root.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const testUser = process.env.CELISTRA_TEST_USER ?? 'celistra-ci';

function run(cmd, args, opts = {}) {
  process.stdout.write(`\n$ ${[cmd, ...args].join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw r.error;
  return r.status ?? 1;
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out.sort();
}

function userExists(name) {
  return spawnSync('id', ['-u', name], { stdio: 'ignore' }).status === 0;
}

// A test that hangs fails after this long instead of holding CI to its hard limit.
const TEST_TIMEOUT = '--test-timeout=600000';

let failed = 0;
if (run('npx', ['tsc', '-p', 'tsconfig.json']) !== 0) process.exit(1);
if (run(process.execPath, ['scripts/bundle.js']) !== 0) process.exit(1);

const all = testFiles(join(root, 'dist', 'test'));
failed += run(process.execPath, ['--test', '--test-concurrency=2', TEST_TIMEOUT, ...all]) !== 0 ? 1 : 0;
failed += run(process.execPath, ['dist/src/cli/main.js', 'conformance', '--backend', 'all']) !== 0 ? 1 : 0;

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (isRoot && userExists(testUser)) {
  // The checkout may sit under /root (mode 0700), so the unprivileged run gets its own
  // copy — under /var/tmp, not /tmp: the backends give fenced commands a private /tmp,
  // which would hide the copy's own binaries from them.
  const copy = mkdtempSync(join('/var/tmp', 'celistra-test-'));
  chmodSync(copy, 0o755);
  // verbatimSymlinks: by default cpSync rewrites relative links (node_modules/.bin/*) to
  // absolute paths into the original checkout, which the unprivileged user may not reach.
  cpSync(root, copy, { recursive: true, verbatimSymlinks: true, filter: (src) => !src.includes('/.git/') });
  run('chown', ['-R', `${testUser}:`, copy]);
  const userTests = testFiles(join(copy, 'dist', 'test', 'sandbox'));
  const asUser = (args) => run('runuser', ['-u', testUser, '--', 'env', `HOME=/home/${testUser}`, process.execPath, ...args], { cwd: copy });
  failed += asUser(['--test', '--test-concurrency=2', TEST_TIMEOUT, ...userTests]) !== 0 ? 1 : 0;
  failed += asUser(['dist/src/cli/main.js', 'conformance', '--backend', 'all']) !== 0 ? 1 : 0;
  // Again on a machine without user namespaces (Ubuntu 24.04's AppArmor restriction,
  // kernel.unprivileged_userns_clone=0), made for this run only (scripts/no-userns.sh):
  // what cannot run there skips with its reason, `doctor` still finds a backend (Landlock
  // alone), and the conformance suite, whose stage is a task worktree, is refused by
  // every backend with their reasons (E_NO_BACKEND, 67), not run unfenced or half.
  if (spawnSync('unshare', ['--help'], { stdio: 'ignore' }).status === 0) {
    const noUserns = (args) => run(join(root, 'scripts', 'no-userns.sh'), ['runuser', '-u', testUser, '--', 'env', `HOME=/home/${testUser}`, process.execPath, ...args], { cwd: copy });
    failed += noUserns(['--test', '--test-concurrency=2', TEST_TIMEOUT, ...userTests]) !== 0 ? 1 : 0;
    failed += noUserns(['dist/src/cli/main.js', 'doctor']) !== 0 ? 1 : 0;
    failed += noUserns(['dist/src/cli/main.js', 'conformance', '--backend', 'all']) !== 67 ? 1 : 0;
  } else {
    process.stdout.write('\nnote: no unshare(1): the run without user namespaces was skipped\n');
  }
  rmSync(copy, { recursive: true, force: true });
} else if (isRoot) {
  process.stdout.write(`\nnote: no user "${testUser}": sandbox tests did not run unprivileged (.ci/run creates it)\n`);
}

process.stdout.write(failed ? `\n${failed} test group(s) failed\n` : '\nall test groups passed\n');
process.exit(failed ? 1 : 0);
