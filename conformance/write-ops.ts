import { join } from 'node:path';
import type { Attempt } from './case.js';
import { lit, sh } from './quoting.js';
import { PY_TRY } from './python-try.js';

/** A place outside the fence, with an existing file and an existing empty dir to aim at. */
export interface WriteTarget {
  label: string;
  dir: string;
  file: string;
  emptyDir: string;
}

/**
 * The content operations of case 1/2, each as one shell attempt, plus one Node and one
 * Python attempt that try them all (exit 0 when any went through). Unique names per
 * attempt keep the attempts independent.
 */
export function contentWriteAttempts(t: WriteTarget, prefix: string): Attempt[] {
  const n = (s: string) => join(t.dir, `conf-${prefix}-${s}`);
  const shOps: [string, string][] = [
    ['create', `: > ${sh(n('sh-new'))}`],
    ['append', `echo x >> ${sh(t.file)}`],
    ['overwrite', `echo x > ${sh(t.file)}`],
    ['truncate', `truncate -s 0 ${sh(t.file)}`],
    ['delete', `rm -f ${sh(t.file)} && test ! -e ${sh(t.file)}`],
    ['rename', `mv ${sh(t.file)} ${sh(n('sh-moved'))}`],
    ['mkdir', `mkdir ${sh(n('sh-dir'))}`],
    ['rmdir', `rmdir ${sh(t.emptyDir)}`],
    ['symlink', `ln -s /etc/passwd ${sh(n('sh-link'))}`],
  ];
  const attempts: Attempt[] = shOps.map(([op, script]) => ({ name: `sh ${op} ${t.label}`, via: 'sh', script }));
  attempts.push({
    name: `node fs ops on ${t.label}`,
    via: 'node',
    script: `const fs=require('fs');const ok=[];const t=(n,f)=>{try{f();ok.push(n)}catch{}};
const D=${lit(t.dir)},F=${lit(t.file)},E=${lit(t.emptyDir)},N=(s)=>D+'/conf-${prefix}-node-'+s;
t('create',()=>fs.writeFileSync(N('new'),'x',{flag:'wx'}));t('mkdir',()=>fs.mkdirSync(N('dir')));
t('symlink',()=>fs.symlinkSync('/etc/passwd',N('link')));t('append',()=>fs.appendFileSync(F,'x'));
t('overwrite',()=>fs.writeFileSync(F,'x'));t('truncate',()=>fs.truncateSync(F,0));
t('rename',()=>fs.renameSync(F,N('moved')));t('delete',()=>fs.unlinkSync(F));t('rmdir',()=>fs.rmdirSync(E));
console.log(ok.join(' '));process.exit(ok.length?0:1);`,
  });
  attempts.push({
    name: `python os ops on ${t.label}`,
    via: 'python3',
    script: `import os, sys
${PY_TRY}D, F, E = ${lit(t.dir)}, ${lit(t.file)}, ${lit(t.emptyDir)}
N = lambda s: os.path.join(D, 'conf-${prefix}-py-' + s)
t('create', lambda: os.close(os.open(N('new'), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)))
t('mkdir', lambda: os.mkdir(N('dir')))
t('symlink', lambda: os.symlink('/etc/passwd', N('link')))
t('append', lambda: os.close(os.open(F, os.O_WRONLY | os.O_APPEND)))
t('overwrite', lambda: os.write(os.open(F, os.O_WRONLY), b'x'))
t('truncate', lambda: os.truncate(F, 0))
t('creat', lambda: os.close(os.open(F, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o644)))
t('rename', lambda: os.rename(F, N('moved')))
t('delete', lambda: os.unlink(F))
t('rmdir', lambda: os.rmdir(E))
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
  });
  return attempts;
}

/** Metadata changes (case 4): mode, times, extended attributes, owner — each through all three. */
export function metadataAttempts(file: string, label: string): Attempt[] {
  return [
    { name: `sh chmod ${label}`, via: 'sh', script: `chmod 0777 ${sh(file)}` },
    { name: `sh touch -d ${label}`, via: 'sh', script: `touch -d '2001-01-01 00:00' ${sh(file)}` },
    { name: `sh chown to self ${label}`, via: 'sh', script: `chown "$(id -u):$(id -g)" ${sh(file)}` },
    {
      name: `node chmod/utimes/chown ${label}`,
      via: 'node',
      script: `const fs=require('fs');const ok=[];const t=(n,f)=>{try{f();ok.push(n)}catch{}};const F=${lit(file)};
t('chmod',()=>fs.chmodSync(F,0o777));t('utimes',()=>fs.utimesSync(F,1,1));t('chown',()=>fs.chownSync(F,process.getuid(),process.getgid()));
console.log(ok.join(' '));process.exit(ok.length?0:1);`,
    },
    {
      name: `python chmod/utime/setxattr/chown ${label}`,
      via: 'python3',
      script: `import os, sys
${PY_TRY}F = ${lit(file)}
t('chmod', lambda: os.chmod(F, 0o777))
t('utime', lambda: os.utime(F, (1, 1)))
t('setxattr', lambda: os.setxattr(F, 'user.celistra', b'x'))
t('chown', lambda: os.chown(F, os.getuid(), os.getgid()))
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
    },
  ];
}
