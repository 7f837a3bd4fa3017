import { defineCommand } from 'citty';
import { CelistraError } from '../policy/errors.js';
import { celistraPaths } from '../policy/paths.js';
import { openAuditLog } from '../audit/index.js';
import { runCommand } from './command.js';
import { EXIT_CODES } from './exit-codes.js';

const verify = defineCommand({
  meta: {
    name: 'verify',
    description: 'Walk the audit log\'s hash chain; exit 0 when intact, 73 naming the first bad row when not.',
  },
  args: {
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const log = openAuditLog({ stateDir: celistraPaths().stateDir });
      try {
        const result = log.verify();
        // Earlier databases that could not be opened were moved aside, not verified here.
        const recoveries = result.ok ? log.query({ type: 'recovery', limit: 100 }) : [];
        const movedAside = recoveries.map((r) => String(r.data.movedTo));
        if (args.json) {
          process.stdout.write(`${JSON.stringify({ path: log.path, ...result, movedAside }, null, 2)}\n`);
          return result.ok ? 0 : EXIT_CODES.E_AUDIT;
        }
        if (!result.ok) {
          // firstBadId 0: SQLite could not read the file itself, so no row can be named.
          const where = result.firstBadId > 0 ? `first bad row #${result.firstBadId}: ` : '';
          throw new CelistraError('E_AUDIT', `audit log ${log.path} does not verify: ${where}${result.reason}`, 'the file was left as it is; `celistra history --json` shows the rows and their hashes');
        }
        process.stdout.write(`audit log ok: ${result.rows} rows verified, head #${result.headId} ${result.headHash}\n`);
        for (const path of movedAside) process.stdout.write(`note: an earlier unreadable audit database was moved to ${path}\n`);
        return 0;
      } finally {
        log.close();
      }
    }),
});

const prune = defineCommand({
  meta: {
    name: 'prune',
    description: 'Apply retention now (it also runs automatically, at most daily).',
  },
  args: {
    days: { type: 'string', description: 'keep this many days (default 30)', valueHint: 'N' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const days = args.days === undefined ? undefined : Number(args.days);
      if (days !== undefined && (!Number.isInteger(days) || days < 1)) throw new CelistraError('E_USAGE', `--days must be a positive integer, not "${args.days}"`);
      const log = openAuditLog({ stateDir: celistraPaths().stateDir, retentionDays: days });
      try {
        const result = log.prune();
        if (args.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else if (result.pruned === 0) process.stdout.write(`nothing older than ${new Date(result.cutoff).toISOString()} to prune\n`);
        else process.stdout.write(`pruned ${result.pruned} rows (#${result.fromId}..#${result.toId}); anchor row #${result.anchorId}\n`);
      } finally {
        log.close();
      }
    }),
});

export default defineCommand({
  meta: { name: 'audit', description: 'Check and maintain the audit log.' },
  subCommands: { verify, prune },
});
