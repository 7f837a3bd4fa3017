import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * Files the caller redirected the command's stdio from or to (`celistra run ... < in >>
 * log 2>> err-log`) lie outside the workspace. What the command may do: read stdin and
 * append to the logs. What it may not: change any of the files' mode, owner, times or
 * xattrs, cut or overwrite a log's earlier contents, or reopen one for writing through
 * /proc/self/fd/N. The host sets the three files up, runs the attempt with them as stdio,
 * and compares content, mode, times and xattrs (read by a host-side Python, as Node has no
 * xattr call) before and after.
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
for fd in (0, 1, 2):
    t('fchmod %d' % fd, lambda: os.chmod(fd, 0o666))
    t('fchown %d to itself' % fd, lambda: os.chown(fd, os.getuid(), os.getgid()))
    t('futimens %d' % fd, lambda: os.utime(fd, (1, 1)))
    t('fsetxattr %d' % fd, lambda: os.setxattr(fd, 'user.celistra-conf32', b'x'))
for fd in (1, 2):
    t('ftruncate %d' % fd, lambda: os.ftruncate(fd, 0))
    t('pwrite %d at 0' % fd, lambda: os.pwrite(fd, b'OVERWRITTEN', 0))
def reopen(fd):
    w = os.open('/proc/self/fd/%d' % fd, os.O_WRONLY | os.O_TRUNC)
    os.write(w, b'written through /proc/self/fd/%d\n' % fd); os.close(w)
for fd in (0, 1, 2):
    t('reopen %d for writing' % fd, lambda: reopen(fd))
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

/** What changed in a log the command may only append to. */
function logChanges(what: string, before: Seen, after: Seen): string[] {
  const evidence: string[] = [];
  if (!after.content.startsWith(before.content)) evidence.push(`${what}'s earlier contents changed: ${JSON.stringify(after.content.slice(0, 80))}`);
  if (after.mode !== before.mode) evidence.push(`${what}'s mode changed: ${before.mode.toString(8)} → ${after.mode.toString(8)}`);
  if (after.uid !== before.uid) evidence.push(`${what}'s owner changed: ${before.uid} → ${after.uid}`);
  // Appending moves mtime to now; only a time set backwards (futimens) is the attempt's.
  if (after.mtimeMs < Date.now() - 600_000) evidence.push(`${what}'s mtime was set to ${new Date(after.mtimeMs).toISOString()}`);
  return evidence;
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const name = 'fchmod, fchown, futimens, fsetxattr, ftruncate, pwrite and reopen of redirected stdin, stdout and stderr';
  const input = join(ctx.stage.root, 'conf-32-input');
  const log = join(ctx.stage.root, 'conf-32-log');
  const errLog = join(ctx.stage.root, 'conf-32-err-log');
  writeFileSync(input, INPUT, { mode: 0o644 });
  writeFileSync(log, EARLIER, { mode: 0o644 });
  writeFileSync(errLog, EARLIER, { mode: 0o644 });
  // Times in the past, so any change to them shows.
  for (const f of [input, log, errLog]) utimesSync(f, 1_000_000, 1_000_000);
  const attempt = join(ctx.stage.wtA, 'conf-32-attempt.py');
  writeFileSync(attempt, ATTEMPT);
  const before = { input: look(input), log: look(log), errLog: look(errLog), xattrs: xattrs([input, log, errLog]) };
  const stdio = [openSync(input, 'r'), openSync(log, 'a'), openSync(errLog, 'a')];
  let r;
  try {
    r = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', attempt], {
      env: ctx.stage.env,
      stdio,
      encoding: 'utf8',
      timeout: 60_000,
    });
  } finally {
    for (const fd of stdio) closeSync(fd);
  }
  const after = { input: look(input), log: look(log), errLog: look(errLog), xattrs: xattrs([input, log, errLog]) };
  const said = after.errLog.content.slice(EARLIER.length).trim().replace(/\s*\n\s*/g, ' | ').slice(0, 300);
  const evidence: string[] = [];
  if (after.input.content !== before.input.content) evidence.push(`stdin's file content changed: ${JSON.stringify(after.input.content.slice(0, 80))}`);
  for (const k of ['mode', 'uid', 'mtimeMs', 'ctimeMs'] as const) if (after.input[k] !== before.input[k]) evidence.push(`stdin's file ${k} changed: ${before.input[k]} → ${after.input[k]}`);
  evidence.push(...logChanges('the stdout log', before.log, after.log), ...logChanges('the stderr log', before.errLog, after.errLog));
  if (JSON.stringify(after.xattrs) !== JSON.stringify(before.xattrs)) evidence.push(`xattrs changed: ${JSON.stringify(before.xattrs)} → ${JSON.stringify(after.xattrs)}`);
  if (evidence.length) return [{ name, outcome: 'escaped', detail: `${evidence.join('; ')} (${said})` }];
  // A write through a reopened /proc/self/fd/1 reaches the relayed pipe, so it lands after the append.
  if (r.status !== 0 || !after.log.content.slice(EARLIER.length).startsWith(APPENDED)) {
    return [{ name, expect: 'allow', outcome: 'denied', detail: `appending to the redirected log failed (exit ${r.status}): ${said}` }];
  }
  return [{ name, outcome: 'held', detail: `the three files unchanged but for the appends (${said})` }];
}

const c: Case = {
  id: '32',
  title: 'files stdio was redirected from or to keep their mode, owner, times, xattrs and earlier contents',
  section: 'H',
  expect: 'inherited-stdio',
  custom: check,
};
export default c;
