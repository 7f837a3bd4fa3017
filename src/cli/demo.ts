import { defineCommand } from 'citty';
import { parseBackendChoice } from '../run/backend-selection.js';
import { DemoInterrupted, runDemo, type DemoResult } from '../demo/tour.js';
import { CelistraError } from '../policy/errors.js';
import { unknownFlags } from './argv.js';
import { runCommand } from './command.js';

/** The exit status when the tour ran but a check failed: an escape got through, or allowed work did not happen. */
export const DEMO_FAILED = 1;

const demoArgs = {
  dir: { type: 'string', description: 'build the scratch world here (a new or empty directory; default: a temp dir)', valueHint: 'DIR' },
  keep: { type: 'boolean', description: 'keep the scratch dir afterwards, to look around' },
  json: { type: 'boolean', description: 'print the structured result instead of the step-by-step tour' },
  backend: { type: 'string', description: 'auto | landlock | bwrap | seatbelt | none (none shows the checks failing)', default: 'auto' },
} as const;

export default defineCommand({
  meta: {
    name: 'demo',
    description:
      'A self-checking tour in a scratch repo: two task worktrees, a fenced agent in each that commits and then tries to escape (other worktree, main checkout, $HOME, .git/config), each attempt judged on the host; then diff, pull, worktree ls; then two agents under the daemon that ask a person (one approved, one denied). Exits 1 if an escape got through, 67 with no usable backend.',
  },
  args: demoArgs,
  run: ({ args, rawArgs }) =>
    runCommand(async () => {
      const unknown = unknownFlags(rawArgs, Object.keys(demoArgs));
      if (unknown.length) throw new CelistraError('E_USAGE', `unknown option --${unknown[0]}`, 'celistra demo --help lists the options');
      const backend = parseBackendChoice(args.backend);
      const json = Boolean(args.json);
      const say = json ? () => {} : (line: string) => process.stdout.write(`${line}\n`);
      say('celistra demo: two agents, each in its own git worktree, each fenced by the kernel');
      if (backend === 'none') say('WARNING: --backend none runs the agents UNSANDBOXED: their escapes will get through, and this demo will fail');
      let result: DemoResult;
      try {
        result = await runDemo({ dir: args.dir, keep: Boolean(args.keep), backend, progress: say });
      } catch (e) {
        if (!(e instanceof DemoInterrupted)) throw e;
        process.stderr.write(`celistra: ${e.message}\n`);
        return e.status;
      }
      if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else for (const line of summary(result)) say(line);
      return result.ok ? 0 : DEMO_FAILED;
    }),
});

function fleetLine(r: DemoResult): string {
  if (r.fleet.skipped) return `approvals skipped (${r.fleet.skipped})`;
  return `under the daemon, ${r.fleet.agents.filter((a) => a.answer === 'approve').length} request approved and ${r.fleet.agents.filter((a) => a.answer === 'deny').length} denied, each agent doing exactly what it was allowed`;
}

function summary(r: DemoResult): string[] {
  const out = [''];
  const escaped = r.escapes.escaped;
  if (escaped > 0) {
    out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
    out.push(`!!! ${escaped} of ${r.escapes.attempted} escape attempts GOT THROUGH (backend ${r.backend.used ?? r.backend.requested}): the fence did not hold`);
    out.push('!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!');
  }
  if (r.ok) {
    out.push(`✓ demo passed in ${r.seconds} s: both agents committed in their own worktrees; ${r.escapes.blocked} of ${r.escapes.attempted} escape attempts blocked by the kernel (${r.backend.used}), each verified on the host; both tasks pulled into main; ${fleetLine(r)}`);
  } else {
    out.push(`✗ demo FAILED in ${r.seconds} s:`);
    for (const f of r.failures) out.push(`  - ${f}`);
  }
  out.push(r.kept ? `kept: ${r.dir} (the project is ${r.repo}; try: cd ${r.repo} && celistra worktree ls)` : `removed the scratch dir ${r.dir} (pass --keep to look around)`);
  return out;
}
