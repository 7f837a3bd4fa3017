import { join } from 'node:path';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { PY_TRY } from '../python-try.js';

/** Truncation is its own right in Landlock (ABI 3): O_TRUNC, truncate(2), ftruncate and creat() over outside files. */
const c: Case = {
  id: '03',
  title: 'O_TRUNC, truncate(2), creat() over an outside file are denied',
  section: 'A',
  expect: 'content-writes',
  attempts: (s) =>
    [join(s.wtB, 'work.txt'), join(s.main, 'README.md'), join(s.home, '.profile')].flatMap((f): Attempt[] => [
      { name: `sh O_TRUNC ${f}`, via: 'sh', script: `: > ${sh(f)}` },
      { name: `sh truncate(2) ${f}`, via: 'sh', script: `truncate -s 1 ${sh(f)}` },
      {
        name: `python O_TRUNC/truncate/creat/ftruncate ${f}`,
        via: 'python3',
        script: `import ctypes, os, sys
F = ${lit(f)}; ${PY_TRY}t('O_TRUNC', lambda: os.close(os.open(F, os.O_WRONLY | os.O_TRUNC)))
t('truncate', lambda: os.truncate(F, 2))
def creat():
    fd = ctypes.CDLL(None, use_errno=True).creat(F.encode(), 0o644)
    if fd < 0: raise OSError(ctypes.get_errno(), 'creat')
    os.close(fd)
t('creat', creat)
def ftrunc():
    fd = os.open(F, os.O_RDONLY)
    try: os.ftruncate(fd, 0)
    finally: os.close(fd)
t('ftruncate on a read-only fd', ftrunc)
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
      },
      { name: `node truncateSync/openSync w ${f}`, via: 'node', script: `const fs=require('fs');const ok=[];try{fs.truncateSync(${lit(f)},3);ok.push('truncate')}catch{}try{fs.closeSync(fs.openSync(${lit(f)},'w'));ok.push('open w')}catch{}console.log(ok.join(' '));process.exit(ok.length?0:1)` },
    ]),
};
export default c;
