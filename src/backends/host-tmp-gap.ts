import { isWithin, type Policy } from '../core/policy.js';

/**
 * Why a namespace backend's private /tmp does not hold for this policy. Both Linux
 * backends keep the host's /tmp (read-only) when a writable root lies under it, because a
 * fresh tmpfs would hide that root's siblings (a worktree reads its main repository).
 * What the agent then gets is checked by test/sandbox/private-tmp-under-tmp.test.ts.
 */
export function sharedTmpReason(policy: Policy): string {
  const under = [policy.workspace, ...policy.writableRoots].filter((w) => isWithin(w, '/tmp') || isWithin('/tmp', w));
  return (
    `${under.join(', ')} ${under.length === 1 ? 'lies' : 'lie'} under /tmp, so /tmp is the host's, read-only, not a private one: ` +
    'the agent can read what other agents and processes leave in /tmp and connect to unix sockets there (a tmux or ssh-agent socket there lets it run commands or use keys outside the fence); ' +
    'TMPDIR and /dev/shm stay private. Fix: put the workspace outside /tmp'
  );
}
