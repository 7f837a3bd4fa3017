import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { statusField } from '../host-proc.js';
import { sh } from '../quoting.js';

/** Nothing from inside loosens the fence: no new privileges, new namespaces, mounts or nested sandboxes. */
const c: Case = {
  id: '25',
  title: 'NoNewPrivs; unshare -Ur, mount, a nested sandbox do not loosen the fence',
  section: 'F',
  expect: 'content-writes',
  attempts: (s) => {
    const t = (n: string) => sh(join(s.wtB, `conf-25-${n}`));
    const attempts: Attempt[] = [
      {
        name: 'host reads NoNewPrivs of the fenced process',
        via: 'sh',
        script: 'grep NoNewPrivs /proc/self/status',
        expect: 'supervisor',
        inspectDriver: (pid) => {
          if (pid === undefined) return ['the fenced driver process was not found on the host'];
          const nnp = statusField(pid, 'NoNewPrivs');
          return nnp === '1' ? [] : [`NoNewPrivs is ${nnp ?? 'unreadable'}: a setuid binary would gain privileges`];
        },
      },
      { name: 'sh unshare -Ur then write wt-b', via: 'sh', script: `unshare -Ur sh -c 'echo x > ${t('userns')}'` },
      { name: 'sh unshare -Urm, remount wt-b rw, write', via: 'sh', script: `unshare -Urm sh -c 'mount -o remount,bind,rw ${s.wtB} ${s.wtB}; echo x > ${t('remount')}'` },
      { name: 'sh unshare -m (as is), bind / over wt-a, write through it', via: 'sh', script: `unshare -m sh -c 'mount --bind / ${s.wtA} && echo x > ${sh(join(s.wtA, s.wtB.slice(1), 'conf-25-bind'))}'` },
      { name: 'sh unshare -Urm, mount a fresh proc and write via /proc/1/root', via: 'sh', script: `unshare -Urmpf --mount-proc sh -c 'echo x > /proc/1/root${join(s.wtB, 'conf-25-proc')}'` },
      { name: 'sh nested bwrap --bind / / then write wt-b', via: 'sh', script: `command -v bwrap >/dev/null || exit 3; bwrap --bind / / --dev /dev sh -c 'echo x > ${t('bwrap')}'` },
      {
        name: 'python unshare(CLONE_NEWUSER|CLONE_NEWNS) + write wt-b',
        via: 'python3',
        script: `import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.unshare(0x10000000 | 0x00020000)
print('unshare', r, ctypes.get_errno())
open(${JSON.stringify(join(s.wtB, 'conf-25-py'))}, 'w').write('x')`,
      },
    ];
    return attempts;
  },
};
export default c;
