import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { backendByName } from '../../src/run/backend-selection.js';
import type { ApprovalView } from '../../src/approvals/request.js';
import type { AuditRow } from '../../src/audit/index.js';
import { agent, cleanup, CLI_MAIN, makeSandbox, startDaemonProcess, waitFor } from '../daemon-harness.js';
import { CLAUDE_BIN, claudeAvailable, claudeEnv } from '../support/claude-launch.js';
import { startScriptedAnthropic, toolUseId, type ScriptedAnthropic } from '../support/scripted-anthropic.js';

const caps = backendByName('bwrap').probe();
const skip = claudeAvailable() ?? (caps.available ? false : `bwrap: ${caps.unavailableReason}`);

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } }).trim();
}

test(
  "three Claude Code agents spawned with the seed's `claude --print` ask to commit; two approved (CLI, the phone's push action) commit, the denied one's model sees the refusal",
  { skip, timeout: 240_000 },
  async () => {
    const sb = makeSandbox();
    const repo = join(sb.root, 'myproject');
    mkdirSync(repo);
    git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'README'), 'hello\n');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-qm', 'initial');
    const models: ScriptedAnthropic[] = [];
    // A local server stands in for the ntfy server the phone subscribes to.
    const pushed: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    const phone = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        pushed.push({ headers: req.headers, body });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => phone.listen(0, '127.0.0.1', () => r()));
    const free = createServer();
    await new Promise<void>((r) => free.listen(0, '127.0.0.1', () => r()));
    const listenPort = (free.address() as AddressInfo).port;
    await new Promise<void>((r) => free.close(() => r()));
    mkdirSync(join(sb.env.XDG_CONFIG_HOME!, 'celistra'), { recursive: true, mode: 0o700 });
    writeFileSync(
      join(sb.env.XDG_CONFIG_HOME!, 'celistra', 'notify.json'),
      JSON.stringify({ ntfy: { url: `http://127.0.0.1:${(phone.address() as AddressInfo).port}/celistra` }, actionBaseUrl: `http://127.0.0.1:${listenPort}`, listen: `127.0.0.1:${listenPort}` }),
    );
    const daemon = await startDaemonProcess(sb);
    try {
      for (const n of [1, 2, 3]) {
        const wt = join(sb.root, `myproject-task-${n}`);
        git(repo, 'worktree', 'add', '-q', wt, '-b', `agent/task-${n}`, 'main');
        const model = await startScriptedAnthropic({
          turns: [{ tools: [{ name: 'Bash', input: { command: `echo work > work-${n}.txt && git add -A && git -c user.name=agent -c user.email=a@e commit -qm "task ${n} work"`, description: `commit task ${n}` } }] }],
          finalText: 'Done.',
        });
        models.push(model);
        await sb.client.call('POST', '/v1/agents', {
          argv: [CLAUDE_BIN, '--print', 'commit your work'],
          workspace: wt,
          backend: 'bwrap',
          preset: 'claude',
          env: claudeEnv(model.url),
          cols: 120,
          rows: 40,
        });
      }
      const list = async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals;
      const pending = await waitFor('three approval requests', async () => ((await list()).length >= 3 ? list() : undefined), 150_000);
      assert.deepEqual(pending.map((a) => a.task).sort(), ['task-1', 'task-2', 'task-3']);
      for (const a of pending) {
        assert.equal(a.tool, 'Bash');
        assert.match(a.text, /^Bash: .*git .*commit -qm "task \d work"$/);
      }
      const shown = spawnSync(process.execPath, [CLI_MAIN, 'approvals'], { env: sb.env, encoding: 'utf8' }).stdout;
      for (const task of ['task-1', 'task-2', 'task-3']) assert.match(shown, new RegExp(task));
      assert.match((await agent(sb, pending[0]!.agent)).approvals ? 'waiting' : '', /waiting/);

      const byTask = (t: string) => pending.find((a) => a.task === t)!;
      const cli = spawnSync(process.execPath, [CLI_MAIN, 'approve', byTask('task-1').id], { env: sb.env, encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      const push2 = await waitFor('the push for task-2', () => pushed.find((p) => String(p.headers.title).includes('[task-2]')), 20_000);
      const approveUrl = /http, Approve, (\S+), method=POST/.exec(String(push2.headers.actions))?.[1];
      assert.ok(approveUrl, String(push2.headers.actions));
      assert.equal((await fetch(approveUrl, { method: 'POST' })).status, 200);
      const deny = spawnSync(process.execPath, [CLI_MAIN, 'deny', byTask('task-3').id, '--reason', 'not this one'], { env: sb.env, encoding: 'utf8' });
      assert.equal(deny.status, 0, deny.stderr);

      for (const a of pending) await waitFor(`${a.agent} to finish`, async () => ((await agent(sb, a.agent)).state === 'exited' || undefined), 90_000);
      for (const n of [1, 2]) assert.equal(git(join(sb.root, `myproject-task-${n}`), 'log', '-1', '--format=%s'), `task ${n} work`);
      assert.equal(git(join(sb.root, 'myproject-task-3'), 'log', '-1', '--format=%s'), 'initial');
      const refused = models[2]!.toolResult(toolUseId(0, 0));
      assert.ok(refused?.isError, 'the model got an error for the denied command');
      assert.match(refused!.text, /not this one/);
      assert.equal(models[0]!.toolResult(toolUseId(0, 0))?.isError, false);

      const events = (await sb.client.call<{ events: AuditRow[] }>('GET', '/v1/events?type=approval&limit=100')).events;
      const decisions = events.filter((e) => e.data.action === 'approved' || e.data.action === 'denied').map((e) => `${String(e.data.task)}:${String(e.data.action)}:${String(e.data.by)}`);
      assert.deepEqual(decisions.sort(), ['task-1:approved:cli', 'task-2:approved:phone', 'task-3:denied:cli']);
      const history = spawnSync(process.execPath, [CLI_MAIN, 'history', '--event', 'approval'], { env: sb.env, encoding: 'utf8' }).stdout;
      for (const step of ['requested', 'approved', 'denied']) assert.match(history, new RegExp(step));
    } finally {
      for (const m of models) await m.close();
      phone.close();
      await cleanup(sb, daemon);
    }
  },
);
