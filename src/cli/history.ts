import { defineCommand } from 'citty';
import { existsSync } from 'node:fs';
import { spoolDir } from '../audit/spool.js';
import { join } from 'node:path';
import { CelistraError } from '../policy/errors.js';
import { celistraPaths } from '../policy/paths.js';
import { AUDIT_EVENT_TYPES, isAuditEventType, openAuditLog, type AuditLog, type AuditQuery, type AuditRow } from '../audit/index.js';
import { describeEvent } from '../audit/summary.js';
import { parseSince } from '../audit/since.js';
import { runCommand } from './command.js';
import { printable } from '../text/printable.js';

const DEFAULT_LIMIT = 50;
/** Without a daemon, --follow re-reads the log this often. */
const LOCAL_POLL_MS = 500;

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
    json: { type: 'boolean', description: 'print the rows as JSON (with their hashes); with --follow, one JSON row per line' },
    follow: { type: 'boolean', alias: 'f', description: 'print the matching rows oldest first, then new events as they happen (until Ctrl-C)' },
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

      const query: AuditQuery = { agent: args.name ? String(args.name) : undefined, since, type: args.event ? String(args.event) : undefined, limit };
      if (args.follow) return follow(query, Boolean(args.json));
      const { stateDir } = celistraPaths();
      // Reading must not create a log where none was ever written (`run` spools its events first).
      if (!existsSync(join(stateDir, 'audit.db')) && !existsSync(spoolDir(stateDir))) {
        process.stdout.write(args.json ? '[]\n' : 'no events recorded yet\n');
        return;
      }
      const log = openAuditLog({ stateDir });
      try {
        const rows = log.query(query);
        process.stdout.write(args.json ? `${JSON.stringify(rows, null, 2)}\n` : table(rows));
      } finally {
        log.close();
      }
    }),
});

/**
 * --follow: the matching rows oldest first, then every new one. Through the daemon's
 * event stream while it runs (it sees every process's writes as they land); without
 * it — or once it stops — by re-reading the log, as the daemon itself would.
 */
async function follow(query: AuditQuery, json: boolean): Promise<never> {
  // Loaded here, not at the top: plain `history` must not pay for the daemon's modules.
  const [{ followEventStream }, { socketPath }] = await Promise.all([import('../daemon/events-client.js'), import('../daemon/server.js')]);
  const { stateDir } = celistraPaths();
  const print = (row: AuditRow) => process.stdout.write(json ? `${JSON.stringify(row)}\n` : followLine(row));
  const matches = (row: AuditRow) => (query.agent === undefined || row.agent === query.agent) && (query.type === undefined || row.type === query.type);
  // Reading must not create a log where none was ever written; following waits for one.
  const logExists = () => existsSync(join(stateDir, 'audit.db')) || existsSync(spoolDir(stateDir));
  if (!json) process.stdout.write(followLine(undefined));

  let log: AuditLog | undefined;
  // Rows above `after` are still to be printed.
  let after = 0;
  if (logExists()) {
    log = openAuditLog({ stateDir });
    const rows = log.query(query).reverse();
    rows.forEach(print);
    // Nothing matched: every row that exists now is old news.
    after = rows.length > 0 ? Math.max(...rows.map((r) => r.id)) : (log.query({ limit: 1 })[0]?.id ?? 0);
  }
  const fromDaemon = await followEventStream(socketPath(celistraPaths()), { agent: query.agent, type: query.type, after }, {
    row: print,
    gap: (from, to) => process.stderr.write(`celistra: events ${from}..${to} were skipped (too far back); \`celistra history\` shows them\n`),
  });
  after = fromDaemon ?? after;
  for (;;) {
    if (log === undefined && logExists()) log = openAuditLog({ stateDir });
    if (log !== undefined) {
      for (const row of log.rowsAfter(after, 1000)) {
        after = row.id;
        if (matches(row)) print(row);
      }
    }
    await new Promise((r) => setTimeout(r, LOCAL_POLL_MS));
  }
}

/** A fixed-width line (the header for undefined): followed rows arrive one at a time. */
function followLine(row: AuditRow | undefined): string {
  const cols = row ? [localTime(row.ts), printable(row.agent ?? '-'), row.type, printable(describeEvent(row))] : ['TIME', 'AGENT', 'EVENT', 'SUMMARY'];
  return `${[cols[0]!.padEnd(19), cols[1]!.padEnd(16), cols[2]!.padEnd(12), cols[3]!].join('  ').trimEnd()}\n`;
}

function table(rows: AuditRow[]): string {
  if (rows.length === 0) return 'no matching events\n';
  // Agent names and summaries may carry what an agent chose (a denied path's name).
  const lines = rows.map((r) => [localTime(r.ts), printable(r.agent ?? '-'), r.type, printable(describeEvent(r))]);
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
