import { defineCommand } from 'citty';
import { existsSync } from 'node:fs';
import { spoolDir } from '../core/audit/spool.js';
import { join } from 'node:path';
import { CelistraError } from '../core/errors.js';
import { celistraPaths } from '../core/paths.js';
import { AUDIT_EVENT_TYPES, isAuditEventType, openAuditLog, type AuditRow } from '../core/audit/index.js';
import { describeEvent } from '../core/audit/summary.js';
import { parseSince } from '../core/audit/since.js';
import { runCommand } from './command.js';

const DEFAULT_LIMIT = 50;

export default defineCommand({
  meta: {
    name: 'history',
    description: 'Show the audit log, newest first: spawns, exits, restarts, kills, attaches, denials.',
  },
  args: {
    name: { type: 'positional', required: false, description: 'only this agent', valueHint: 'NAME' },
    since: { type: 'string', description: 'only events since a span (30m, 24h, 7d) or an ISO date/time', valueHint: 'WHEN' },
    event: { type: 'string', description: `only this event type: ${AUDIT_EVENT_TYPES.join(', ')}`, valueHint: 'TYPE' },
    limit: { type: 'string', description: `at most N events (default ${DEFAULT_LIMIT})`, valueHint: 'N' },
    json: { type: 'boolean', description: 'print the rows as JSON (with their hashes)' },
  },
  run: ({ args }) =>
    runCommand(async () => {
      const now = Date.now();
      let since: number | undefined;
      if (args.since !== undefined) {
        since = parseSince(String(args.since), now);
        if (since === undefined) throw new CelistraError('E_USAGE', `--since "${args.since}" is neither a span nor a date`, 'use e.g. --since 30m, 24h, 7d, 2w, or 2026-11-20T14:00Z');
      }
      if (args.event !== undefined && !isAuditEventType(String(args.event))) {
        throw new CelistraError('E_USAGE', `unknown event type "${args.event}"`, `known types: ${AUDIT_EVENT_TYPES.join(', ')}`);
      }
      const limit = args.limit === undefined ? DEFAULT_LIMIT : Number(args.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new CelistraError('E_USAGE', `--limit must be a positive integer, not "${args.limit}"`);

      const { stateDir } = celistraPaths();
      // Reading must not create a log where none was ever written (`run` spools its events first).
      if (!existsSync(join(stateDir, 'audit.db')) && !existsSync(spoolDir(stateDir))) {
        process.stdout.write(args.json ? '[]\n' : 'no events recorded yet\n');
        return;
      }
      const log = openAuditLog({ stateDir });
      try {
        const rows = log.query({ agent: args.name ? String(args.name) : undefined, since, type: args.event ? String(args.event) : undefined, limit });
        process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
      } finally {
        log.close();
      }
    }),
});

function table(rows: AuditRow[]): string {
  if (rows.length === 0) return 'no matching events\n';
  const lines = rows.map((r) => [localTime(r.ts), r.agent ?? '-', r.type, describeEvent(r)]);
  const header = ['TIME', 'AGENT', 'EVENT', 'SUMMARY'];
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...lines.map((l) => l[i]!.length)));
  const format = (cols: string[]) => cols.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd();
  return `${[format(header), ...lines.map(format)].join('\n')}\n`;
}

function localTime(ts: number): string {
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
