/**
 * Every credential in DEFAULT_DENY_READ is unreadable to a fenced command on each Linux
 * backend, with no --deny-read given, while an ordinary file beside them in the same home
 * stays readable (so a failing read is the fence, not a broken test). The home is
 * snapshotted before and after: the attempts change nothing.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runCelistra } from '../support/celistra-cli.js';
import { isolatedEnv } from '../support/isolated-env.js';
import { snapshotTree } from '../support/fence-stage.js';
import { landlockBackend } from '../../src/backends/landlock/index.js';
import { bwrapBackend } from '../../src/backends/bwrap/index.js';
import { DEFAULT_DENY_READ, expandHome } from '../../src/policy/policy.js';

const SECRET = 'CELISTRA-DEFAULT-SECRET';

/** Each default as something to read: a file itself, or a file inside the denied directory. */
function plantSecrets(home: string): string[] {
  return DEFAULT_DENY_READ.map((p) => {
    const path = expandHome(p, home);
    // Entries named like files (a dot-name with an extension, or a known file) are files.
    const isFile = /\.(json)$/.test(path) || /\/\.(netrc|git-credentials)$/.test(path);
    const target = isFile ? path : join(path, 'credentials');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, `${SECRET} ${p}\n`);
    return target;
  });
}

for (const backend of [landlockBackend, bwrapBackend]) {
  const caps = backend.probe();
  describe(`default credential denies under ${backend.name}`, { skip: caps.available ? false : `${backend.name} unavailable: ${caps.unavailableReason}` }, () => {
    test('each default credential is unreadable, an ordinary file beside them is readable, and nothing changes', () => {
      const iso = isolatedEnv('celistra-default-secrets-', '/var/tmp');
      const ws = join(iso.root, 'ws');
      mkdirSync(ws);
      const secrets = plantSecrets(iso.home);
      writeFileSync(join(iso.home, 'notes.txt'), 'ORDINARY\n');
      const before = snapshotTree(iso.home);
      const script = [
        `grep -q ORDINARY '${join(iso.home, 'notes.txt')}' && echo 'ordinary read'`,
        ...secrets.map((s) => `if cat '${s}' 2>/dev/null | grep -q ${SECRET}; then echo 'READ ${s}'; fi`),
      ].join('\n');
      const r = runCelistra(['run', '--backend', backend.name, '--workspace', ws, '--', 'sh', '-c', script], { env: iso.env });
      assert.equal(r.status, 0, r.stderr.toString());
      const out = r.stdout.toString();
      assert.match(out, /ordinary read/);
      assert.deepEqual(out.split('\n').filter((l) => l.startsWith('READ ')), [], 'a default credential was readable');
      assert.deepEqual(snapshotTree(iso.home), before);
    });

    test('--allow-read lifts one default deny for the run: that credential is readable, every other one is not', () => {
      const iso = isolatedEnv('celistra-default-secrets-', '/var/tmp');
      const ws = join(iso.root, 'ws');
      mkdirSync(ws);
      const secrets = plantSecrets(iso.home);
      const kube = secrets.find((p) => p.includes('/.kube/'))!;
      const before = snapshotTree(iso.home);
      const script = secrets.map((s) => `if cat '${s}' 2>/dev/null | grep -q ${SECRET}; then echo 'READ ${s}'; fi`).join('\n');
      const r = runCelistra(['run', '--backend', backend.name, '--allow-read', '~/.kube', '--workspace', ws, '--', 'sh', '-c', script], { env: iso.env });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.stdout.toString().split('\n').filter((l) => l.startsWith('READ ')), [`READ ${kube}`]);
      assert.match(r.stderr, /note: the command may read ~\/\.kube/);
      assert.deepEqual(snapshotTree(iso.home), before);
    });
  });
}
