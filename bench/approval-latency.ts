// Approval latency (docs/approvals.md): from a decision posted to the daemon to the moment
// the agent's next command starts, with N fenced agents asking at once. Each agent runs
//   repeat R: celistra ask ... && date +%s%3N
// inside its fence (default backend); each round the bench waits until all N requests
// are pending, then approves them all at once over the API, and takes, per agent, the
// printed time minus the request's decidedAt (one clock: same machine). Both ends are
// real: the daemon's answer file, the fenced `celistra ask` waking on inotify (or its
// 200 ms poll), its exit, and the shell starting the next command.
// Usage: node dist/bench/approval-latency.js [agents=10] [rounds=10] [backend=auto]
import type { ApprovalView } from '../src/approvals/request.js';
import { cleanup, makeSandbox, spawnAgent, startDaemonProcess, waitFor } from '../test/daemon-harness.js';
import { machineLine, percentile } from './stats.js';

const agents = Number(process.argv[2] ?? 10);
const rounds = Number(process.argv[3] ?? 10);
const backend = process.argv[4] ?? 'auto';

const sb = makeSandbox();
const daemon = await startDaemonProcess(sb);
try {
  for (let i = 0; i < agents; i++) {
    const script = `for r in $(seq ${rounds}); do "$CELISTRA_NODE" "$CELISTRA_CLI" ask "bench $r" --timeout 120 2>/dev/null && echo "tool-start $r $(date +%s%3N)"; done; sleep 600`;
    await spawnAgent(sb, `bench-${i}`, ['sh', '-c', script], { backend });
  }
  const latencies: number[] = [];
  const list = async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals;
  for (let r = 1; r <= rounds; r++) {
    const pending = await waitFor(`round ${r}: ${agents} pending requests`, async () => {
      const l = (await list()).filter((a) => a.text === `bench ${r}`);
      return l.length === agents ? l : undefined;
    }, 60_000);
    const decided = await Promise.all(pending.map((a) => sb.client.call<{ approval: ApprovalView }>('POST', `/v1/approvals/${a.id}/approve`, { by: 'cli' })));
    for (const { approval } of decided) {
      const line = await waitFor(`round ${r}: ${approval.agent} to go on`, async () => {
        const out = (await sb.client.logs(approval.agent)).toString();
        return new RegExp(`tool-start ${r} (\\d+)`).exec(out)?.[1];
      }, 30_000);
      latencies.push(Number(line) - approval.decidedAt!);
    }
  }
  const p = (q: number) => percentile(latencies, q).toFixed(0);
  const backendUsed = (await sb.client.call<{ agents: Array<{ backend: string }> }>('GET', '/v1/agents')).agents[0]?.backend;
  process.stdout.write(`${machineLine()}\n`);
  process.stdout.write(`approval latency, decision posted → next command starts: ${agents} agents asking at once × ${rounds} rounds, backend ${backendUsed}\n`);
  process.stdout.write(`  n=${latencies.length}  p50 ${p(50)} ms  p90 ${p(90)} ms  p99 ${p(99)} ms  max ${Math.max(...latencies)} ms\n`);
} finally {
  await cleanup(sb, daemon);
}
