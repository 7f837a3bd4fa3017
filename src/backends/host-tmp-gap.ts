import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { isWithin, type Policy } from '../policy/policy.js';

const TMP = '/tmp';

/**
 * How the namespace backends (landlock with user namespaces, bwrap) give an agent its own
 * /tmp. An empty tmpfs goes on /tmp; a writable root under /tmp comes back inside it with
 * the top-level /tmp/<x> that holds it, read-only (a worktree there reads its main
 * repository beside it, as anything outside /tmp stays readable), and so does the one
 * holding the command (tmpTops). Everything else in the
 * host's /tmp — other agents' files, tmux and ssh-agent sockets — is absent. Only a
 * writable root that is /tmp or holds it makes the host's /tmp the agent's, and then
 * private-tmp is not held (checked by test/sandbox/private-tmp-under-tmp.test.ts).
 */
export function rootsHoldingTmp(policy: Policy): string[] {
  return [policy.workspace, ...policy.writableRoots].filter((w) => isWithin(TMP, w));
}

/**
 * The top-level /tmp/<x> entries kept (read-only) in the private /tmp: those holding a
 * writable root, and those holding the command or an argument given by an absolute path
 * (a tool or script in a checkout under /tmp). Not the private TMPDIR: it comes back alone.
 */
export function tmpTops(policy: Policy, argv: readonly string[] = []): string[] {
  const tops = new Set<string>();
  const keep = (p: string) => {
    if (p !== TMP && isWithin(p, TMP)) tops.add(`${TMP}/${p.slice(TMP.length + 1).split('/')[0]}`);
  };
  for (const w of [policy.workspace, ...policy.writableRoots]) keep(w);
  // The command and any argument naming a path (`node /tmp/x/cli.js`, `sh /tmp/y/run.sh`):
  // the user put them on the command line, and the fence would otherwise hide them.
  for (const arg of argv) {
    if (!isAbsolute(arg)) continue;
    try {
      // Both the path given and where it leads (node_modules/.bin links into the package).
      keep(normalize(arg));
      keep(realpathSync(arg));
    } catch {
      // Missing: the sandbox reports "not found" as it would anyway.
    }
  }
  return [...tops].filter((t) => existsSync(t));
}

/** Why private-tmp does not hold for this policy (rootsHoldingTmp is not empty). */
export function sharedTmpReason(policy: Policy): string {
  const holding = rootsHoldingTmp(policy);
  return (
    `the writable ${holding.join(', ')} ${holding.length === 1 ? 'is or holds' : 'are or hold'} /tmp, so the agent shares the host's /tmp: ` +
    'it can read and change what other agents and processes leave there, and with --allow-unix-sockets connect to unix sockets there (a tmux or ssh-agent socket lets it run commands or use keys outside the fence); ' +
    'TMPDIR and /dev/shm stay private. Fix: grant a directory inside /tmp instead'
  );
}
