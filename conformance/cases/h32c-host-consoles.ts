import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';

/**
 * The host's consoles beside the user's terminal (case 32b): the virtual and serial
 * consoles (/dev/ttyN, /dev/ttyS*, /dev/console), their screen memory (/dev/vcs*) and the
 * kernel log (/dev/kmsg). Reading one is reading what is typed or shown there. The
 * Landlock backend granted read of /dev (native/src/landlock-ruleset.c closed it, found by
 * attack, issue 15); bwrap builds its own /dev. The attempt opens, without blocking, each
 * such node this user can open outside the fence; held when none opens and each keeps
 * its mode, owner and ctime. Under landlock also with user namespaces forced off (the
 * Landlock-only mode). No such node to attack (an unprivileged user, usually): n/a, saying so.
 */

const ATTEMPT = String.raw`
import os, sys
for p in sys.argv[1:]:
    try:
        os.close(os.open(p, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)); print('OPENED', p)
    except OSError as e:
        print('REFUSED', p, os.strerror(e.errno))
`;

/** The console, screen memory and kernel log nodes this process can open for reading outside the fence. */
function openableConsoles(): string[] {
  // A few of each kind (a host has 64 VTs): console, kmsg, ttyN, ttySN, vcs, vcsa, vcsu.
  const kinds = new Map<string, string[]>();
  for (const n of readdirSync('/dev').sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))) {
    const kind = /^(console|kmsg|ttyS|tty|vcsa|vcsu|vcs)\d*$/.exec(n)?.[1];
    if (kind && (kind === 'console' || kind === 'kmsg' || n !== kind)) kinds.set(kind, [...(kinds.get(kind) ?? []), n]);
  }
  return [...kinds.values()]
    .flatMap((names) => names.slice(0, 3))
    .map((n) => `/dev/${n}`)
    .filter((p) => {
      try {
        if (!statSync(p).isCharacterDevice()) return false;
        closeSync(openSync(p, constants.O_RDONLY | constants.O_NOCTTY | constants.O_NONBLOCK));
        return true;
      } catch {
        return false;
      }
    });
}

const identity = (p: string) => {
  const st = statSync(p);
  return `${p} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} ctime=${st.ctimeMs}`;
};

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  const name = 'open the host\'s consoles, screen memory and kernel log for reading';
  if (process.platform !== 'linux') return [{ name, outcome: 'n/a', detail: 'Linux device nodes' }];
  const consoles = openableConsoles();
  if (consoles.length === 0) return [{ name, outcome: 'n/a', detail: 'no console, /dev/vcs* or /dev/kmsg this user can open outside the fence, so nothing to attack' }];
  // A plain directory, not a task worktree: the Landlock-only mode has no mount namespace
  // for a worktree's read-only git carve-outs.
  const ws = mkdtempSync(join(dirname(ctx.stage.wtA), 'conf-32c-'));
  const attempt = join(ws, 'attempt.py');
  writeFileSync(attempt, ATTEMPT);
  try {
    return attack(ctx, ws, attempt, consoles, name);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}

function attack(ctx: CaseContext, ws: string, attempt: string, consoles: string[], name: string): CustomResult[] {
  const modes: { label: string; env: Record<string, string> }[] = [{ label: '', env: {} }];
  if (ctx.backend === 'landlock') modes.push({ label: ' (Landlock only: user namespaces forced off)', env: { CELISTRA_FORCE_NO_USERNS: '1', CELISTRA_LANDLOCK_ROOT_WITHOUT_USERNS: 'accept-metadata-gap' } });
  const results: CustomResult[] = [];
  for (const mode of modes) {
    const before = consoles.map(identity);
    const r = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ws, '--', 'python3', attempt, ...consoles], {
      env: { ...ctx.stage.env, ...mode.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = r.stdout ?? '';
    const opened = out.split('\n').filter((l) => l.startsWith('OPENED '));
    const refused = out.split('\n').filter((l) => l.startsWith('REFUSED '));
    const changed = consoles.map(identity).filter((line, i) => line !== before[i]);
    const label = `${name}${mode.label}`;
    if (opened.length > 0 || changed.length > 0) {
      results.push({ name: label, outcome: 'escaped', detail: [...opened, ...changed.map((c) => `changed: ${c}`)].join('; ') });
    } else if (r.status !== 0 || refused.length !== consoles.length) {
      results.push({ name: label, expect: 'allow', outcome: 'denied', detail: `the attempt did not run through (exit ${r.status}): ${(r.stderr ?? '').trim().slice(-300)}` });
    } else {
      results.push({ name: label, outcome: 'held', detail: refused.join('; ') });
    }
  }
  return results;
}

const c: Case = {
  id: '32c',
  title: 'the host\'s consoles (/dev/ttyN, /dev/console, /dev/ttyS*), their screen memory (/dev/vcs*) and /dev/kmsg cannot be opened for reading',
  section: 'H',
  expect: 'read-deny',
  custom: check,
};
export default c;
