import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * Files the caller redirected the command's stdio from or to (`celistra run ... < in >>
 * log`) lie outside the workspace, yet the command holds them open. What it may do:
 * read stdin and append to the log. What it may not: change either file's mode, owner,
 * times or xattrs, cut or overwrite the log's earlier contents, or reopen stdin's file
 * for writing. The host sets both files up, runs the attempt with them as stdin and
 * stdout, and compares content, mode, times and xattrs (read by a host-side Python, as
 * Node has no xattr call) before and after.
 */

const EARLIER = 'a line the log held before the run\n';
const APPENDED = 'the command appended this\n';
const INPUT = 'input the command reads\n';

const ATTEMPT = String.raw`
import os, sys
did = []
def t(name, fn):
    try:
        fn(); did.append(name)
    except OSError:
        pass
sys.stdin.read()
os.write(1, ${JSON.stringify(APPENDED)}.encode())
for fd in (0, 1):
    t('fchmod %d' % fd, lambda: os.chmod(fd, 0o666))
    t('fchown %d to itself' % fd, lambda: os.chown(fd, os.getuid(), os.getgid()))
    t('futimens %d' % fd, lambda: os.utime(fd, (1, 1)))
    t('fsetxattr %d' % fd, lambda: os.setxattr(fd, 'user.celistra-conf32', b'x'))
t('ftruncate 1', lambda: os.ftruncate(1, 0))
t('pwrite 1 at 0', lambda: os.pwrite(1, b'OVERWRITTEN', 0))
def reopen():
    w = os.open('/proc/self/fd/0', os.O_WRONLY | os.O_APPEND)
    os.write(w, b'written through /proc/self/fd/0\n'); os.close(w)
t('reopen stdin for writing', reopen)
sys.stderr.write('DID: ' + ', '.join(did) + '\n')
`;

const XATTRS = String.raw`
import json, os, sys
print(json.dumps({p: sorted(os.listxattr(p)) for p in sys.argv[1:]}))
`;

interface Seen {
  content: string;
  mode: number;
  uid: number;
  mtimeMs: number;
  ctimeMs: number;
}

function look(path: string): Seen {
  const st = statSync(path);
  return { content: readFileSync(path, 'utf8'), mode: st.mode, uid: st.uid, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

function xattrs(paths: string[]): Record<string, string[]> | undefined {
  const r = spawnSync('python3', ['-c', XATTRS, ...paths], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout);
  } catch {
    return undefined;
  }
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const name = 'fchmod, fchown, futimens, fsetxattr, ftruncate, pwrite and reopen of redirected stdin and stdout';
  const input = join(ctx.stage.root, 'conf-32-input');
  const log = join(ctx.stage.root, 'conf-32-log');
  writeFileSync(input, INPUT, { mode: 0o644 });
  writeFileSync(log, EARLIER, { mode: 0o644 });
  // Times in the past, so any change to them shows.
  utimesSync(input, 1_000_000, 1_000_000);
  utimesSync(log, 1_000_000, 1_000_000);
  const attempt = join(ctx.stage.wtA, 'conf-32-attempt.py');
  writeFileSync(attempt, ATTEMPT);
  const before = { input: look(input), log: look(log), xattrs: xattrs([input, log]) };
  const stdin = openSync(input, 'r');
  const stdout = openSync(log, 'a');
  let r;
  try {
    r = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', attempt], {
      env: ctx.stage.env,
      stdio: [stdin, stdout, 'pipe'],
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    closeSync(stdin);
    closeSync(stdout);
  }
  const after = { input: look(input), log: look(log), xattrs: xattrs([input, log]) };
  const said = (r.stderr ?? '').trim().replace(/\s*\n\s*/g, ' | ').slice(0, 300);
  const evidence: string[] = [];
  if (after.input.content !== before.input.content) evidence.push(`stdin's file content changed: ${JSON.stringify(after.input.content.slice(0, 80))}`);
  for (const k of ['mode', 'uid', 'mtimeMs', 'ctimeMs'] as const) if (after.input[k] !== before.input[k]) evidence.push(`stdin's file ${k} changed: ${before.input[k]} → ${after.input[k]}`);
  if (!after.log.content.startsWith(EARLIER)) evidence.push(`the log's earlier contents changed: ${JSON.stringify(after.log.content.slice(0, 80))}`);
  if (after.log.mode !== before.log.mode) evidence.push(`the log's mode changed: ${before.log.mode.toString(8)} → ${after.log.mode.toString(8)}`);
  if (after.log.uid !== before.log.uid) evidence.push(`the log's owner changed: ${before.log.uid} → ${after.log.uid}`);
  // Appending moves mtime to now; only a time set backwards (futimens) is the attempt's.
  if (after.log.mtimeMs < Date.now() - 600_000) evidence.push(`the log's mtime was set to ${new Date(after.log.mtimeMs).toISOString()}`);
  if (JSON.stringify(after.xattrs) !== JSON.stringify(before.xattrs)) evidence.push(`xattrs changed: ${JSON.stringify(before.xattrs)} → ${JSON.stringify(after.xattrs)}`);
  if (evidence.length) return [{ name, outcome: 'escaped', detail: `${evidence.join('; ')} (${said})` }];
  if (r.status !== 0 || !after.log.content.endsWith(APPENDED)) {
    return [{ name, expect: 'allow', outcome: 'denied', detail: `appending to the redirected log failed (exit ${r.status}): ${said}` }];
  }
  return [{ name, outcome: 'held', detail: `both files unchanged but for the append (${said})` }];
}

const c: Case = {
  id: '32',
  title: 'files stdio was redirected from or to keep their mode, owner, times, xattrs and earlier contents',
  section: 'H',
  expect: 'inherited-stdio',
  custom: check,
};
export default c;
