import { defineCommand } from 'citty';
import { constants as osConstants } from 'node:os';
import type { Backend } from '../backends/backend.js';
import { SANDBOX_BACKENDS, backendByName, parseBackendChoice } from '../run/backend-selection.js';
import { CelistraError } from '../policy/errors.js';
import { runCommand } from './command.js';
import { unknownFlags } from './argv.js';

/** `all`: every sandbox backend this machine offers; otherwise the one named (`none` included, to see the judge fail). */
function chosenBackends(name: string): Backend[] {
  if (name === 'all') return SANDBOX_BACKENDS;
  const choice = parseBackendChoice(name);
  if (choice === 'auto') throw new CelistraError('E_USAGE', '--backend auto is not a backend to test', 'name one (landlock, bwrap, seatbelt, none) or all');
  return [backendByName(choice)];
}

const conformanceArgs = {
  backend: { type: 'string', description: 'all | landlock | bwrap | seatbelt | none', default: 'all' },
  case: { type: 'string', description: 'only cases whose id or title matches this glob (e.g. "1*", "*symlink*")', valueHint: 'GLOB' },
  json: { type: 'boolean', description: 'machine-readable report' },
  strict: { type: 'boolean', description: 'judge as if every guarantee were enforced: shows what each declared gap lets through' },
} as const;

export default defineCommand({
  meta: {
    name: 'conformance',
    description: 'Prove the fence: run every escape attempt and allowed-work case against the backends here, judged on the host. Exits 1 on any escape, false denial or error.',
  },
  args: conformanceArgs,
  run: ({ args, rawArgs }) =>
    runCommand(async () => {
      const unknown = unknownFlags(rawArgs, Object.keys(conformanceArgs));
      if (unknown.length) throw new CelistraError('E_USAGE', `unknown option --${unknown[0]}`, 'celistra conformance --help lists the options');
      const { loadCases, matchesGlob, runBackend } = await import('../../conformance/runner.js');
      const { countFailures, renderSuite } = await import('../../conformance/report.js');
      const { undoAll } = await import('../../conformance/interrupt-cleanup.js');
      for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.once(sig, () => {
          undoAll();
          process.exit(128 + osConstants.signals[sig]);
        });
      }
      const backends = chosenBackends(args.backend);
      const cases = (await loadCases()).filter((c) => !args.case || matchesGlob(c, args.case));
      if (cases.length === 0) throw new CelistraError('E_USAGE', `no case matches "${args.case}"`, 'see conformance/cases/ for the ids');
      const unavailable: { backend: string; reason: string }[] = [];
      const reports = [];
      for (const b of backends) {
        const caps = b.probe();
        if (!caps.available) {
          unavailable.push({ backend: b.name, reason: `${caps.unavailableReason ?? 'unavailable'}${caps.fix ? ` (fix: ${caps.fix})` : ''}` });
          continue;
        }
        if (b.name === 'none') process.stderr.write('celistra: conformance against --backend none: nothing is fenced, escapes are expected\n');
        if (!args.json) process.stderr.write(`celistra: conformance: ${b.name}: ${cases.length} cases…\n`);
        const onCase = args.json ? undefined : (r: { id: string; status: string }) => process.stderr.write(`celistra: conformance: ${b.name} ${r.id} ${r.status}\n`);
        const report = await runBackend(b, cases, { strict: args.strict, onCase });
        if (report.available) reports.push(report);
        else unavailable.push({ backend: b.name, reason: report.unavailableReason ?? 'unavailable' });
      }
      if (reports.length === 0) {
        throw new CelistraError('E_NO_BACKEND', `no backend to test here:\n  ${unavailable.map((u) => `${u.backend}: ${u.reason}`).join('\n  ')}`, '`celistra doctor` shows what is missing');
      }
      const failures = countFailures(reports);
      const suite = { backends: reports, unavailable, failures };
      process.stdout.write(args.json ? `${JSON.stringify(suite, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n` : renderSuite(suite));
      return failures === 0 ? 0 : 1;
    }),
});
