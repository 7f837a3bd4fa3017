import { lstatSync, readFileSync, readlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Case } from '../case.js';
import { lit, sh } from '../quoting.js';

/** Every file operation inside the agent's own worktree must work: a fence that breaks the agent has failed. */
function expectTree(dir: string): string | undefined {
  try {
    if (readFileSync(join(dir, 'kept.txt'), 'utf8') !== 'created\nappended\n') return `${dir}/kept.txt does not hold the appended content`;
    if (readFileSync(join(dir, 'over.txt'), 'utf8') !== 'second\n') return `${dir}/over.txt was not overwritten`;
    if (lstatSync(join(dir, 'trunc.txt')).size !== 0) return `${dir}/trunc.txt was not truncated`;
    if (existsSync(join(dir, 'gone.txt'))) return `${dir}/gone.txt was not deleted`;
    if (!existsSync(join(dir, 'renamed.txt')) || existsSync(join(dir, 'torename.txt'))) return `${dir}/torename.txt was not renamed`;
    if (!lstatSync(join(dir, 'sub')).isDirectory()) return `${dir}/sub was not created`;
    if (existsSync(join(dir, 'rmme'))) return `${dir}/rmme was not removed`;
    if (readlinkSync(join(dir, 'link')) !== 'kept.txt') return `${dir}/link is not a symlink to kept.txt`;
    if ((lstatSync(join(dir, 'mode.txt')).mode & 0o777) !== 0o600) return `${dir}/mode.txt mode was not changed to 600`;
  } catch (e) {
    return `host cannot see the work: ${(e as Error).message}`;
  }
  return undefined;
}

const c: Case = {
  id: '01',
  title: 'create, append, overwrite, truncate, delete, rename, mkdir, rmdir, symlink, chmod inside wt-a',
  section: 'A',
  expect: 'allow',
  attempts: (s) => {
    const d = (via: string) => join(s.wtA, `conf-01-${via}`);
    return [
      {
        name: 'sh: every operation in wt-a',
        via: 'sh',
        script: `set -e; D=${sh(d('sh'))}; mkdir "$D"; cd "$D"
echo created > kept.txt; echo appended >> kept.txt; echo first > over.txt; echo second > over.txt
echo data > trunc.txt; truncate -s 0 trunc.txt; echo x > gone.txt; rm gone.txt; echo x > torename.txt
mv torename.txt renamed.txt; mkdir sub; mkdir rmme; rmdir rmme; ln -s kept.txt link; echo x > mode.txt; chmod 600 mode.txt`,
        verify: () => expectTree(d('sh')),
      },
      {
        name: 'node fs: every operation in wt-a',
        via: 'node',
        script: `const fs=require('fs');const D=${lit(d('node'))};fs.mkdirSync(D);process.chdir(D);
fs.writeFileSync('kept.txt','created\\n');fs.appendFileSync('kept.txt','appended\\n');fs.writeFileSync('over.txt','first\\n');fs.writeFileSync('over.txt','second\\n');
fs.writeFileSync('trunc.txt','data');fs.truncateSync('trunc.txt',0);fs.writeFileSync('gone.txt','x');fs.unlinkSync('gone.txt');fs.writeFileSync('torename.txt','x');
fs.renameSync('torename.txt','renamed.txt');fs.mkdirSync('sub');fs.mkdirSync('rmme');fs.rmdirSync('rmme');fs.symlinkSync('kept.txt','link');fs.writeFileSync('mode.txt','x');fs.chmodSync('mode.txt',0o600);`,
        verify: () => expectTree(d('node')),
      },
      {
        name: 'python os: every operation in wt-a',
        via: 'python3',
        script: `import os
D = ${lit(d('py'))}; os.mkdir(D); os.chdir(D)
open('kept.txt', 'w').write('created\\n'); open('kept.txt', 'a').write('appended\\n')
open('over.txt', 'w').write('first\\n'); open('over.txt', 'w').write('second\\n')
open('trunc.txt', 'w').write('data'); os.truncate('trunc.txt', 0)
open('gone.txt', 'w').write('x'); os.unlink('gone.txt'); open('torename.txt', 'w').write('x')
os.rename('torename.txt', 'renamed.txt'); os.mkdir('sub'); os.mkdir('rmme'); os.rmdir('rmme')
os.symlink('kept.txt', 'link'); open('mode.txt', 'w').write('x'); os.chmod('mode.txt', 0o600)`,
        verify: () => expectTree(d('py')),
      },
    ];
  },
};
export default c;
