import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * Kernel keyrings are shared kernel state, not files: the session keyring is inherited
 * by every child in every namespace, and a root command without a user namespace
 * reaches root's user keyring. The host plants one key in a fresh session keyring and
 * one in the user keyring, runs the fenced attempt as a child of that session, then
 * reads both keys and both keyrings again: the attempt must have read nothing, changed
 * nothing and added nothing.
 *
 * Keyrings cannot be reached from Node, so the host side is a Python program of its own
 * (HOST), started by the case with the `celistra run` command line to use.
 */

/** The keyctl(2) helpers both sides use. */
const KEYCTL = String.raw`
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ADD_KEY, REQUEST_KEY, KEYCTL = {'x86_64': (248, 249, 250), 'aarch64': (217, 218, 219)}[os.uname().machine]
SESSION, USER = -3, -4
L = ctypes.c_long
def keyctl(*args):
    r = libc.syscall(L(KEYCTL), *[L(a) if isinstance(a, int) else a for a in args])
    return r, ctypes.get_errno()
def add_key(desc, payload, ring):
    r = libc.syscall(L(ADD_KEY), b'user', desc.encode(), payload.encode(), L(len(payload)), L(ring))
    return r, ctypes.get_errno()
def read(key):
    buf = ctypes.create_string_buffer(4096)
    n, e = keyctl(11, key, buf, 4096)
    return buf.raw[:n] if n >= 0 else None
def describe(key):
    buf = ctypes.create_string_buffer(512)
    n, e = keyctl(6, key, buf, 512)
    return buf.value.decode() if n >= 0 else None
`;

/** Run fenced: every way to read, change or add a key. Prints what got through. */
const ATTEMPT = String.raw`
import sys
session_desc, user_desc = sys.argv[1], sys.argv[2]
got = []
for ring, rname in ((SESSION, 'session'), (USER, 'user')):
    for desc in (session_desc, user_desc):
        key, e = keyctl(10, ring, b'user', desc.encode(), 0)  # KEYCTL_SEARCH
        if key > 0:
            got.append('found %s in %s keyring' % (desc, rname))
            payload = read(key)
            if payload is not None: got.append('read: %s' % payload.decode(errors='replace'))
            if keyctl(2, key, b'changed', 7)[0] == 0: got.append('updated %s' % desc)  # KEYCTL_UPDATE
            if keyctl(5, key, 0x3f3f3f3f)[0] == 0: got.append('setperm %s' % desc)  # KEYCTL_SETPERM
    k, e = add_key('celistra-conf30-added', 'planted', ring)
    if k > 0: got.append('added a key to the %s keyring' % rname)
    listing = read(ring)
    if listing: got.append('listed the %s keyring (%d ids)' % (rname, len(listing) // 4))
for desc in (session_desc, user_desc):
    k = libc.syscall(L(REQUEST_KEY), b'user', desc.encode(), None, L(0))
    if k > 0:
        got.append('request_key found %s' % desc)
        payload = read(k)
        if payload is not None: got.append('read: %s' % payload.decode(errors='replace'))
print('\n'.join(got) or 'nothing got through')
sys.exit(0 if got else 1)
`;

/** Run on the host: plant, run the fenced attempt, look again, clean up. Prints JSON. */
const HOST = String.raw`
import json, subprocess, sys
run_argv = json.loads(sys.argv[1]); session_desc, session_secret, user_desc, user_secret = sys.argv[2:6]
r, e = keyctl(1, 0)  # KEYCTL_JOIN_SESSION_KEYRING(NULL): a session of our own
if r < 0: print(json.dumps({'error': 'cannot join a new session keyring: errno %d' % e})); sys.exit(0)
# Linked as a login's session links it (pam_keyinit): we possess, and can remove, what we plant there.
keyctl(8, USER, SESSION)  # KEYCTL_LINK
skey, e1 = add_key(session_desc, session_secret, SESSION)
ukey, e2 = add_key(user_desc, user_secret, USER)
if skey < 0 or ukey < 0: print(json.dumps({'error': 'cannot plant the keys: errno %d/%d' % (e1, e2)})); sys.exit(0)
def state():
    return {'session payload': (read(skey) or b'').decode(), 'user payload': (read(ukey) or b'').decode(),
            'session key': describe(skey), 'user key': describe(ukey),
            'session keyring': sorted((read(SESSION) or b'').hex()[i:i+8] for i in range(0, len((read(SESSION) or b'').hex()), 8)),
            'user keyring': sorted((read(USER) or b'').hex()[i:i+8] for i in range(0, len((read(USER) or b'').hex()), 8))}
before = state()
try:
    p = subprocess.run(run_argv + [session_desc, user_desc], capture_output=True, text=True, timeout=60)
    out = {'status': p.returncode, 'output': p.stdout + p.stderr}
except subprocess.TimeoutExpired as t:
    out = {'status': None, 'output': 'timed out'}
after = state()
# Clean up: our key in the user keyring, and anything the attempt added there.
keyctl(21, ukey)
for i in range(0, len(read(USER) or b''), 4):
    k = int.from_bytes((read(USER) or b'')[i:i+4], sys.byteorder)
    if (describe(k) or '').endswith(';celistra-conf30-added'): keyctl(21, k)
print(json.dumps({'before': before, 'after': after, **out}))
`;

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const name = 'keyctl, add_key and request_key on the session and user keyrings';
  if (process.platform !== 'linux') return [{ name, outcome: 'n/a', detail: 'kernel keyrings are Linux only' }];
  const tag = randomBytes(6).toString('hex');
  const sessionSecret = `CELISTRA-SECRET-session-key-${tag}`;
  const userSecret = `CELISTRA-SECRET-user-key-${tag}`;
  const host = join(ctx.stage.root, 'conf-30-host.py');
  const attempt = join(ctx.stage.wtA, 'conf-30-attempt.py');
  writeFileSync(host, KEYCTL + HOST);
  writeFileSync(attempt, KEYCTL + ATTEMPT);
  const runArgv = [process.execPath, ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--', 'python3', attempt];
  const r = spawnSync('python3', [host, JSON.stringify(runArgv), `conf30-session-${tag}`, sessionSecret, `conf30-user-${tag}`, userSecret], {
    env: ctx.stage.env,
    encoding: 'utf8',
    timeout: 90_000,
  });
  let seen: { error?: string; before: Record<string, unknown>; after: Record<string, unknown>; status: number | null; output: string };
  try {
    seen = JSON.parse(r.stdout);
  } catch {
    return [{ name, outcome: 'n/a', detail: `the host side did not run: ${(r.stderr || r.stdout || String(r.error)).trim().slice(0, 300)}` }];
  }
  if (seen.error) return [{ name, outcome: 'n/a', detail: `cannot stage the keys on this host: ${seen.error}` }];
  const evidence: string[] = [];
  for (const secret of [sessionSecret, userSecret]) if (seen.output.includes(secret)) evidence.push(`a key's payload leaked into the attempt's output: ${secret.slice(0, 30)}…`);
  for (const [k, v] of Object.entries(seen.before)) {
    if (JSON.stringify(v) !== JSON.stringify(seen.after[k])) evidence.push(`${k} changed: ${JSON.stringify(v)} → ${JSON.stringify(seen.after[k])}`);
  }
  const said = seen.output.trim().replace(/\s*\n\s*/g, ' | ').slice(0, 300);
  if (evidence.length) return [{ name, outcome: 'escaped', detail: `${evidence.join('; ')} (attempt exit ${seen.status}: ${said})` }];
  if (seen.status === null) return [{ name, outcome: 'n/a', detail: 'the fenced attempt timed out' }];
  return [{ name, outcome: 'held', detail: `both keys and keyrings unchanged (attempt exit ${seen.status}: ${said})` }];
}

const c: Case = {
  id: '30',
  title: "kernel keyrings: the caller's session and user keyring cannot be read, changed or added to",
  section: 'H',
  expect: 'kernel-keyrings',
  custom: check,
};
export default c;
