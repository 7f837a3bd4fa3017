// The fleet, live: the daemon's /v1/agents/stream sends every agent once, then each agent
// at the moment it changes (docs/api.md). The page keeps the latest of each, by name.
import { socketUrl, type Agent } from './api.js';

type FleetMessage = { type: 'snapshot'; agents: Agent[] } | { type: 'agent'; agent: Agent } | { type: 'removed'; name: string };

const RECONNECT_MS = 2000;

/** Apply one message to the fleet held as a name → agent map. */
function apply(fleet: Map<string, Agent>, msg: FleetMessage): void {
  if (msg.type === 'snapshot') {
    fleet.clear();
    for (const a of msg.agents) fleet.set(a.name, a);
  } else if (msg.type === 'agent') fleet.set(msg.agent.name, msg.agent);
  else if (msg.type === 'removed') fleet.delete(msg.name);
}

/**
 * Keep `fleet` up to date. `changed` runs after every message (`whole` for a snapshot); `connection` says when the
 * stream is live (its first snapshot arrived) and when it closed (it reconnects by itself,
 * and the snapshot on reconnecting replaces whatever was missed meanwhile).
 */
export function followFleet(fleet: Map<string, Agent>, changed: (whole: boolean) => void, connection: (live: boolean, reason?: string) => void): void {
  const ws = new WebSocket(socketUrl('/v1/agents/stream'));
  ws.addEventListener('message', (ev) => {
    const msg = JSON.parse(String(ev.data)) as FleetMessage;
    apply(fleet, msg);
    if (msg.type === 'snapshot') connection(true);
    changed(msg.type === 'snapshot');
  });
  ws.addEventListener('close', (ev) => {
    connection(false, ev.reason || `connection closed (${ev.code})`);
    setTimeout(() => followFleet(fleet, changed, connection), RECONNECT_MS);
  });
}
