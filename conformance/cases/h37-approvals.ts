import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult } from '../case.js';
import { celistraPaths } from '../../src/policy/paths.js';
import { DaemonClient } from '../../src/daemon/client.js';
import { spoolRoot } from '../../src/approvals/spool.js';
import type { ApprovalView } from '../../src/approvals/request.js';
import type { AgentSummary } from '../../src/daemon/agent-spec.js';
import type { AuditRow } from '../../src/audit/index.js';

/**
 * A real daemon with two fenced agents (`--net off`): a victim in wt-b with a pending
 * question, and an attacker in wt-a with one of its own. The attacker tries every route
 * it has to approve its own request or to forge one for the victim: writing, renaming,
 * replacing or linking its answers, the other agent's spool, a request that names the
 * victim, the control socket (raw and HTTP), and `celistra approve` from inside. The
 * verdict is the host's: both requests still pending, nothing decided in the audit log,
 * the victim's spool and the attacker's answers unchanged, and the daemon still answering.
 */
const ATTACK = String.raw`
const fs = require('fs'), path = require('path'), net = require('net'), http = require('http'), cp = require('child_process');
const dir = process.env.CELISTRA_APPROVALS, answers = path.join(dir, 'answers');
const log = (k, v) => console.log('attack ' + k + '=' + v);
const tryIt = (k, f) => { try { f(); log(k, 'DONE'); } catch (e) { log(k, e.code || e.message); } };
const ask = cp.spawn(process.execPath, [process.env.CELISTRA_CLI, 'ask', 'attacker question', '--timeout', '120'], { stdio: 'ignore', detached: true });
ask.unref();
const wait = (ms) => new Promise((r) => setTimeout(r, ms));
(async () => {
  let mine;
  for (let i = 0; i < 200 && !mine; i++) { await wait(50); mine = fs.readdirSync(answers).find((f) => f.endsWith('.json')); }
  log('own-answer-seen', mine ? 'yes' : 'no');
  const own = mine ? JSON.parse(fs.readFileSync(path.join(answers, mine), 'utf8')) : {};
  const approved = JSON.stringify({ v: 1, id: own.id, state: 'approved', by: 'cli' });
  if (mine) {
    tryIt('overwrite-own-answer', () => fs.writeFileSync(path.join(answers, mine), approved));
    tryIt('new-answer-file', () => fs.writeFileSync(path.join(answers, 'forged0001.json'), approved));
    tryIt('unlink-own-answer', () => fs.unlinkSync(path.join(answers, mine)));
    tryIt('rename-into-answers', () => { fs.writeFileSync(path.join(dir, '.x'), approved); fs.renameSync(path.join(dir, '.x'), path.join(answers, mine)); });
    tryIt('chmod-answers', () => fs.chmodSync(answers, 0o777));
    tryIt('rename-answers-dir', () => fs.renameSync(answers, path.join(dir, 'answers-moved')));
    tryIt('rmdir-answers', () => fs.rmdirSync(answers));
    tryIt('rename-spool-dir', () => fs.renameSync(dir, dir + '-moved'));
  }
  tryIt('list-spool-root', () => log('spool-root-entries', fs.readdirSync(path.dirname(dir)).join(',')));
  for (const other of (() => { try { return fs.readdirSync(path.dirname(dir)); } catch { return []; } })()) {
    const o = path.join(path.dirname(dir), other);
    if (o === dir) continue;
    tryIt('write-other-spool-' + other, () => fs.writeFileSync(path.join(o, 'forged0002.json'), JSON.stringify({ v: 1, text: 'forged in another spool' })));
    tryIt('write-other-answers-' + other, () => fs.writeFileSync(path.join(o, 'answers', 'forged0003.json'), approved));
  }
  tryIt('request-naming-victim', () => fs.writeFileSync(path.join(dir, 'victimreq01.json'), JSON.stringify({ v: 1, text: 'forged for the victim', agent: 'victim', runId: 'victim', task: 'wt-b', state: 'approved', by: 'cli' })));
  tryIt('symlink-request', () => fs.symlinkSync('/proc/self/environ', path.join(dir, 'linkreq0001.json')));
  const sock = process.env.H37_CONTROL_SOCKET;
  await new Promise((r) => { const s = net.connect(sock); s.on('connect', () => { log('control-connect', 'CONNECTED'); s.destroy(); r(); }); s.on('error', (e) => { log('control-connect', e.code); r(); }); });
  await new Promise((r) => { const q = http.request({ socketPath: sock, path: '/v1/approvals/' + own.id + '/approve', method: 'POST' }, (res) => { log('control-http', 'STATUS' + res.statusCode); r(); }); q.on('error', (e) => { log('control-http', e.code); r(); }); q.end('{}'); });
  await new Promise((r) => { const q = http.request({ host: '127.0.0.1', port: 80, path: '/v1/approvals', method: 'GET' }, () => { log('loopback-http', 'ANSWERED'); r(); }); q.on('error', (e) => { log('loopback-http', e.code); r(); }); q.end(); });
  const cli = cp.spawnSync(process.execPath, [process.env.CELISTRA_CLI, 'approve', String(own.id)], { encoding: 'utf8' });
  log('cli-approve-status', cli.status);
  console.log('attack-done');
  setInterval(() => {}, 1000);
})();
`;

interface Daemon {
  proc: ChildProcess;
  client: DaemonClient;
  env: NodeJS.ProcessEnv;
  root: string;
}

async function startDaemon(ctx: CaseContext): Promise<Daemon> {
  const root = mkdtempSync(join(ctx.stage.root, 'h37-'));
  const env: NodeJS.ProcessEnv = { ...ctx.stage.env, XDG_STATE_HOME: join(root, 'state'), XDG_CONFIG_HOME: join(root, 'config'), XDG_RUNTIME_DIR: join(root, 'run') };
  const client = new DaemonClient(celistraPaths(env));
  const proc = spawn(process.execPath, [ctx.cli, 'daemon', 'run'], { env, stdio: 'ignore' });
  for (let i = 0; i < 300; i++) {
    try {
      await client.call('GET', '/v1/status');
      return { proc, client, env, root };
    } catch {
      await sleep(50);
    }
  }
  proc.kill('SIGKILL');
  throw new Error('the daemon did not come up');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(probe: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined || Date.now() > deadline) return v;
    await sleep(100);
  }
}

/** Names, modes and contents under a directory: what the host compares before and after. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      out.push(`${p} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.join('\n');
}

async function run(ctx: CaseContext): Promise<CustomResult[]> {
  const d = await startDaemon(ctx);
  const results: CustomResult[] = [];
  const held = (name: string, ok: boolean, detail: string) => results.push({ name, outcome: ok ? 'held' : 'escaped', detail });
  try {
    const spawnAgent = (name: string, workspace: string, argv: string[]) =>
      d.client.call<{ agent: AgentSummary }>('POST', '/v1/agents', { name, argv, workspace, backend: ctx.backend, network: 'off', cols: 80, rows: 24 });
    const list = () => d.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals').then((r) => r.approvals);
    await spawnAgent('victim', ctx.stage.wtB, ['sh', '-c', 'node "$CELISTRA_CLI" ask "victim question" --timeout 120; echo "victim-exit=$?"; sleep 120']);
    const victimReq = await until(async () => (await list()).find((a) => a.agent === 'victim'), 20_000);
    if (!victimReq) return [{ name: 'the victim asks', outcome: 'denied', detail: 'the fenced victim could not ask through its channel' }];
    const root = spoolRoot(celistraPaths(d.env));
    const victimSpool = join(root, readdirSync(root).find((n) => n.startsWith('victim.'))!);
    const victimBefore = snapshot(victimSpool);

    // The attacker learns the control socket's path from its env (it is no secret; reaching it is the point).
    const sock = d.client.socketPath;
    await spawnAgent('attacker', ctx.stage.wtA, ['sh', '-c', `H37_CONTROL_SOCKET='${sock}' exec node -e '${ATTACK.replace(/'/g, `'\\''`)}'`]);
    const out = await until(async () => {
      const text = (await d.client.logs('attacker')).toString();
      return text.includes('attack-done') ? text : undefined;
    }, 60_000);
    if (!out) return [{ name: 'the attacker runs', outcome: 'denied', detail: 'the attack script did not finish' }];
    const lines = out.split(/\r?\n/).filter((l) => l.startsWith('attack '));
    const all = () => d.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals?all=1').then((r) => r.approvals);
    const own = (await all()).find((a) => a.agent === 'attacker' && a.text === 'attacker question');
    if (!own) return [{ name: 'the attacker asks', outcome: 'denied', detail: `the attacker's own question never reached the queue: ${lines.join(' | ')}` }];

    const now = await all();
    held('its own request stays pending', now.some((a) => a.id === own.id && a.state === 'pending'), `request ${own.id}: ${JSON.stringify(now.find((a) => a.id === own.id)?.state)}`);
    held("the victim's request stays pending", now.some((a) => a.id === victimReq.id && a.state === 'pending'), `victim request ${victimReq.id}`);
    const forVictim = now.filter((a) => a.agent === 'victim');
    held('no request is forged for the victim', forVictim.length === 1, `victim's requests: ${forVictim.map((a) => a.text).join(', ')}; the attacker's "naming the victim" request is filed as: ${now.find((a) => a.text === 'forged for the victim')?.agent ?? 'dropped'}`);
    const events = await d.client.call<{ events: AuditRow[] }>('GET', '/v1/events?type=approval&limit=1000').then((r) => r.events);
    const decided = events.filter((e) => ['approved', 'denied'].includes(String(e.data.action)));
    held('nothing is decided in the audit log', decided.length === 0, decided.map((e) => `${e.agent}: ${String(e.data.action)} by ${String(e.data.by)}`).join('; ') || 'no approved/denied events');
    held("the victim's spool is unchanged", snapshot(victimSpool) === victimBefore, victimSpool);
    // Where the daemon made it: a spool that moved or lost its answers dir is itself an escape.
    const attackerSpool = join(root, readdirSync(root).find((n) => /^attacker\.[0-9a-f]{8}$/.test(n)) ?? 'attacker-spool-gone');
    const answerFiles = existsSync(join(attackerSpool, 'answers')) ? readdirSync(join(attackerSpool, 'answers')).filter((f) => !f.startsWith('.')) : [];
    const forgedAnswers = answerFiles.filter((f) => f.startsWith('forged'));
    const ownAnswers = answerFiles.map((f) => readFileSync(join(attackerSpool, 'answers', f), 'utf8')).filter((t) => t.includes(own.id));
    held(
      "the attacker's answers hold only what the daemon wrote",
      forgedAnswers.length === 0 && ownAnswers.length > 0 && ownAnswers.every((t) => JSON.parse(t).state === 'pending'),
      `answers: ${answerFiles.join(', ')}`,
    );
    held("another agent's spool is invisible", !lines.some((l) => /spool-root-entries=.*victim\./.test(l)), lines.filter((l) => l.includes('spool-root') || l.includes('other')).join(' | ') || 'not listed');
    held('the control socket is unreachable', !lines.some((l) => /control-(connect|http)=(CONNECTED|STATUS)/.test(l)), lines.filter((l) => l.includes('control')).join(' | '));
    held('`celistra approve` from inside fails', lines.some((l) => /cli-approve-status=[1-9]/.test(l)), lines.find((l) => l.includes('cli-approve')) ?? '');
    // Listing its own spool's parent (which shows its own spool only) and filing requests in its own spool are allowed.
    const claimed = lines.filter((l) => l.endsWith('=DONE') && !/attack (list-spool-root|request-naming-victim|symlink-request)=/.test(l));
    held('every write to the answers or another spool failed inside', claimed.length === 0, claimed.join(' | ') || lines.filter((l) => !l.includes('control')).join(' | '));

    // Allowed work: a person's answer still reaches the victim through its channel.
    await d.client.call('POST', `/v1/approvals/${victimReq.id}/approve`, { by: 'cli' });
    const victimOut = await until(async () => {
      const text = (await d.client.logs('victim')).toString();
      return /victim-exit=\d/.test(text) ? text : undefined;
    }, 20_000);
    results.push({
      name: "a person's answer reaches the victim",
      expect: 'allow',
      outcome: victimOut?.includes('victim-exit=0') ? 'held' : 'denied',
      detail: victimOut?.match(/victim-exit=\d+/)?.[0] ?? 'no exit line',
    });
    return results;
  } finally {
    for (const name of ['attacker', 'victim']) await d.client.call('POST', `/v1/agents/${name}/kill`, { signal: 'KILL' }).catch(() => undefined);
    await sleep(300);
    d.proc.kill('SIGTERM');
    await new Promise((r) => (d.proc.exitCode !== null ? r(undefined) : d.proc.once('exit', r)));
    rmSync(d.root, { recursive: true, force: true });
  }
}

const c: Case = {
  id: '37',
  title: 'approvals: a fenced agent cannot approve its own request or forge one for another agent',
  section: 'H',
  expect: 'content-writes',
  custom: run,
};
export default c;
