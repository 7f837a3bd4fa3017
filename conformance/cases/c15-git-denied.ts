import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Attempt, Case } from '../case.js';
import { lit, sh } from '../quoting.js';
import { PY_TRY } from '../python-try.js';

const CLI = fileURLToPath(new URL('../../../bin/celistra.js', import.meta.url));

/**
 * The main repository and the other worktree's git dirs are not the agent's: no
 * config/hooks/info/packed-refs (the main ones, nor the carve-outs of its own shadow),
 * no foreign refs, no retargeting of its `.git` pointer, `gitdir` or `commondir`, no
 * damage to existing objects, no worktree surgery — by direct writes and through git.
 */
const c: Case = {
  id: '15',
  title: 'git: shared config/hooks/info/packed-refs, wt-b admin, foreign refs, .git pointer, objects, worktree add/remove/prune',
  section: 'C',
  expect: 'content-writes',
  attempts: (s) => {
    const g = s.gitCommon;
    const sa = s.shadowA;
    const direct: [string, string][] = [
      ['append the main config', `printf '[core]\\n\\thooksPath = /tmp\\n' >> ${sh(join(g, 'config'))}`],
      ['create a main hook', `printf '#!/bin/sh\\ntouch /tmp/pwned\\n' > ${sh(join(g, 'hooks', 'post-checkout'))} && chmod +x ${sh(join(g, 'hooks', 'post-checkout'))}`],
      ['append main info/exclude', `echo evil >> ${sh(join(g, 'info', 'exclude'))}`],
      ['write main refs/heads/main', `git rev-parse HEAD > ${sh(join(g, 'refs', 'heads', 'main'))}`],
      ['write main refs/heads/agent/b', `git rev-parse HEAD > ${sh(join(g, 'refs', 'heads', 'agent', 'b'))}`],
      ['write main refs/heads/agent/a (harvest is the host\'s job)', `git rev-parse HEAD > ${sh(join(g, 'refs', 'heads', 'agent', 'a'))}`],
      ['append own shadow config', `printf '[core]\\n\\tfsmonitor = touch /tmp/pwned\\n' >> ${sh(join(sa, 'config'))}`],
      ['create own shadow hook', `printf '#!/bin/sh\\n' > ${sh(join(sa, 'hooks', 'pre-commit'))}`],
      ['append own shadow info/exclude', `echo evil >> ${sh(join(sa, 'info', 'exclude'))}`],
      ['create in own shadow worktrees/', `mkdir ${sh(join(sa, 'worktrees', 'evil'))}`],
      ['overwrite wt-b admin HEAD', `echo "ref: refs/heads/main" > ${sh(join(s.adminB, 'HEAD'))}`],
      ['truncate wt-b admin index', `: > ${sh(join(s.adminB, 'index'))}`],
      ['retarget wt-b gitdir', `echo /tmp/evil/.git > ${sh(join(s.adminB, 'gitdir'))}`],
      ['retarget wt-b commondir', `echo /tmp/evil > ${sh(join(s.adminB, 'commondir'))}`],
      ['write wt-b shadow branch', `git rev-parse HEAD > ${sh(join(s.shadowB, 'refs', 'heads', 'agent', 'b'))}`],
      ['rewrite own worktree record', `echo '{}' > ${sh(join(dirname(s.adminA), 'worktree.json'))}`],
      ['overwrite an existing object', `chmod u+w ${sh(s.existingObject)}; echo corrupt > ${sh(s.existingObject)}`],
      ['delete an existing object', `rm -f ${sh(s.existingObject)} && test ! -e ${sh(s.existingObject)}`],
    ];
    const mainGit = `git --git-dir=${sh(g)} --work-tree=${sh(s.main)}`;
    const viaGit: [string, string][] = [
      ['git update-ref refs/heads/main in the main repo', `T=$(git commit-tree "HEAD^{tree}" -p HEAD -m evil) && ${mainGit} update-ref refs/heads/main "$T"`],
      ['git update-ref refs/heads/agent/b in the main repo', `${mainGit} update-ref refs/heads/agent/b HEAD~0 2>/dev/null || ${mainGit} update-ref refs/heads/agent/b "$(${mainGit} rev-parse main)^{tree}"; ${mainGit} update-ref refs/heads/agent/b "$(${mainGit} commit-tree "main^{tree}" -p main -m evil)"`],
      ['git tag in the main repo', `${mainGit} tag conf-15-evil`],
      ['git tag -d v1 in the main repo (packed-refs)', `${mainGit} tag -d v1`],
      ['git config in the main repo', `${mainGit} config core.fsmonitor "touch /tmp/pwned"`],
      ['git config in own worktree (shadow config)', 'git config core.fsmonitor "touch /tmp/pwned"'],
      ['git worktree add', 'git worktree add -q ../wt-c -b agent/c'],
      ['git worktree add from the main repo', `${mainGit} worktree add -q ../wt-c2 -b agent/c2`],
      ['celistra worktree rm --force b, from inside', `${sh(process.execPath)} ${sh(CLI)} worktree rm --force --repo ${sh(s.main)} b`],
      ['git worktree prune (main repo, stale wt-gone)', `${mainGit} worktree prune && ! test -d ${sh(join(g, 'worktrees', 'wt-gone'))}`],
      ['git gc --prune=now in the main repo', `${mainGit} gc -q --prune=now`],
    ];
    // Last: when one of these gets through, later git commands would be pointed elsewhere
    // or read a broken packed-refs, and could no longer be judged on their own.
    const pointer: [string, string][] = [
      ['append main packed-refs', `echo "$(git rev-parse HEAD) refs/heads/evil" >> ${sh(join(g, 'packed-refs'))}`],
      ['retarget own shadow alternates', `echo /tmp/evil-objects > ${sh(join(sa, 'objects', 'info', 'alternates'))}`],
      ['retarget own commondir', `echo /tmp/evil > ${sh(join(s.adminA, 'commondir'))}`],
      ['retarget own gitdir', `echo /tmp/evil/.git > ${sh(join(s.adminA, 'gitdir'))}`],
      ['rewrite own .git pointer', `printf 'gitdir: %s\\n' ${sh(s.adminB)} > .git`],
      ['replace own .git pointer (unlink + create)', `rm -f .git && printf 'gitdir: %s\\n' ${sh(s.adminB)} > .git`],
    ];
    const attempts: Attempt[] = [...direct, ...viaGit, ...pointer].map(([label, script]) => ({ name: `sh ${label}`, via: 'sh', script }));
    attempts.push({
      name: 'python write config, hooks, wt-b HEAD, own pointer',
      via: 'python3',
      script: `import os, sys
${PY_TRY}t('config', lambda: open(${lit(join(g, 'config'))}, 'a').write('[core]\\n\\tfsmonitor = true\\n'))
t('shadow config', lambda: open(${lit(join(sa, 'config'))}, 'a').write('[core]\\n\\tfsmonitor = true\\n'))
t('hook', lambda: open(${lit(join(g, 'hooks', 'pre-commit'))}, 'w').write('#!/bin/sh\\n'))
t('wt-b HEAD', lambda: open(${lit(join(s.adminB, 'HEAD'))}, 'w').write('ref: refs/heads/main\\n'))
t('pointer', lambda: open('.git', 'w').write('gitdir: /tmp/evil\\n'))
print(' '.join(ok)); sys.exit(0 if ok else 1)`,
    });
    attempts.push({
      name: 'node write packed-refs, wt-b gitdir, refs/heads/agent/b',
      via: 'node',
      script: `const fs=require('fs');const ok=[];const t=(n,f)=>{try{f();ok.push(n)}catch{}};
t('packed-refs',()=>fs.appendFileSync(${lit(join(g, 'packed-refs'))},'x'));t('gitdir',()=>fs.writeFileSync(${lit(join(s.adminB, 'gitdir'))},'/tmp/x'));
t('agent/b',()=>fs.writeFileSync(${lit(join(g, 'refs', 'heads', 'agent', 'b'))},'0'.repeat(40)+'\\n'));console.log(ok.join(' '));process.exit(ok.length?0:1);`,
    });
    return attempts;
  },
};
export default c;
