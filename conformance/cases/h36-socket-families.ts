import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Case, CaseContext, CustomResult, Expectation } from '../case.js';

/**
 * `--net off` takes the network namespace away, but a namespace holds only the families
 * that are per namespace. vsock belongs to none (it reaches the hypervisor's services on
 * a VM), and neither do several others. The attempt creates a socket of every family
 * Linux knows, in every type; with the network off only unix (itself refused unless
 * allowed), inet, inet6 and netlink may be created, and vsock never. Creating a socket
 * changes nothing on the host, and the host sees no vsock peer, so the case judges from
 * which socket() calls the kernel granted inside (and runs them unfenced under
 * `--backend none`, where they show what a fence must stop).
 */

/** Families (linux/socket.h) a run with the network off may create: all bound to its own network namespace. */
const NET_OFF_ALLOWED = new Set([1 /* unix */, 2 /* inet */, 10 /* inet6 */, 16 /* netlink */]);
const VSOCK = 40;

const ATTEMPT = String.raw`
import socket, sys
made = []
for family in range(1, 46):
    for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_SEQPACKET, socket.SOCK_RAW):
        try:
            s = socket.socket(family, kind)
        except OSError:
            continue
        s.close()
        made.append('%d/%d' % (family, kind))
print('CREATED ' + ' '.join(made))
`;

function run(ctx: CaseContext, net: 'on' | 'off'): { made: number[][]; said: string } {
  const attempt = join(ctx.stage.wtA, 'conf-36-attempt.py');
  writeFileSync(attempt, ATTEMPT);
  const r = spawnSync(process.execPath, [ctx.cli, 'run', '--backend', ctx.backend, '--workspace', ctx.stage.wtA, '--net', net, '--', 'python3', attempt], {
    env: ctx.stage.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  const line = said.split('\n').find((l) => l.startsWith('CREATED'));
  if (line === undefined) throw new Error(`the attempt did not run with --net ${net}: ${said.slice(0, 300)}`);
  const made = line.slice('CREATED'.length).trim().split(' ').filter(Boolean).map((p) => p.split('/').map(Number));
  return { made, said };
}

async function check(ctx: CaseContext): Promise<CustomResult[]> {
  if (process.platform !== 'linux') return [{ name: 'socket families', outcome: 'n/a', detail: 'address families are checked on Linux only' }];
  const results: CustomResult[] = [];
  const off = run(ctx, 'off');
  const beyond = off.made.filter(([family]) => !NET_OFF_ALLOWED.has(family!));
  results.push({
    name: '--net off: socket() of every family beyond unix, inet, inet6, netlink',
    expect: 'network' as Expectation,
    outcome: beyond.length ? 'escaped' : 'held',
    detail: beyond.length ? `created family/type ${beyond.map((m) => m.join('/')).join(', ')}` : `only ${[...new Set(off.made.map(([f]) => f))].join(', ') || 'no'} famil(ies) created`,
  });
  const on = run(ctx, 'on');
  const vsock = on.made.filter(([family]) => family === VSOCK);
  results.push({
    name: '--net on: socket(AF_VSOCK), the hypervisor is not the network',
    expect: 'network' as Expectation,
    outcome: vsock.length ? 'escaped' : 'held',
    detail: vsock.length ? `created vsock socket(s) of type ${vsock.map((m) => m[1]).join(', ')}` : 'no vsock socket created',
  });
  return results;
}

const c: Case = {
  id: '36',
  title: '--net off leaves no socket family that leaves the sandbox (vsock included, also with the network on)',
  section: 'H',
  expect: 'network',
  custom: check,
};
export default c;
