import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Policy } from '../src/policy/policy.js';
import { CelistraError } from '../src/policy/errors.js';
import { sandboxExecArgs, seatbeltProfile } from '../src/backends/seatbelt/profile.js';
import { seatbeltPath } from '../src/backends/seatbelt/darwin-paths.js';

// These tests check the generated profile as data; it is compiled and enforced for real
// only by sandbox-exec in the macOS CI job (test/seatbelt-run.test.ts, the smoke test and
// `celistra conformance --backend seatbelt` in .github/workflows/ci.yml).

function policy(over: Partial<Policy> = {}): Policy {
  return {
    version: 1,
    workspace: '/Users/dev/code/wt-a',
    writableRoots: ['/Users/dev/.claude'],
    readOnlyPaths: ['/Users/dev/code/wt-a/sub/.git'],
    denyRead: ['/Users/dev/.ssh', '/Users/dev/code/wt-a/secrets', '/Users/dev/Library/Caches/celistra-run'],
    tmpDir: '/Users/dev/Library/Caches/celistra-run/tmp/run-1',
    network: 'off',
    unixSockets: 'deny',
    env: {},
    ...over,
  };
}

/** The profile's lines, and the line index of the first rule containing `needle`. */
function lines(text: string) {
  const ls = text.split('\n');
  return { ls, at: (needle: string) => ls.findIndex((l) => l.includes(needle)) };
}

/** Param name for a value (the first one with that value). */
function paramOf(p: ReturnType<typeof seatbeltProfile>, value: string): string {
  const found = p.params.find(([, v]) => v === value);
  assert.ok(found, `no param for ${value}`);
  return found[0];
}

/** The rule (from its opening line to its closing paren) that mentions `(param "NAME")`. */
function ruleMentioning(text: string, name: string): string {
  const ls = text.split('\n');
  const i = ls.findIndex((l) => l.includes(`(param "${name}")`));
  assert.ok(i >= 0, `no rule mentions ${name}`);
  let start = i;
  while (!ls[start]!.startsWith('(')) start--;
  return ls[start]!;
}

test('the profile denies by default', () => {
  const { ls } = lines(seatbeltProfile(policy()).text);
  assert.equal(ls[0], '(version 1)');
  assert.ok(ls.includes('(deny default)'));
  assert.ok(!ls.some((l) => l.startsWith('(allow default')));
});

test('no path appears in the profile text: every path is a -D parameter', () => {
  const evil = '/Users/dev/code/wt-a") (allow file-write* (subpath "/';
  const p = seatbeltProfile(policy({ workspace: evil, readOnlyPaths: [], denyRead: [] }));
  assert.ok(!p.text.includes('/Users/'), p.text);
  assert.deepEqual(p.params.find(([k]) => k === 'WORKSPACE'), ['WORKSPACE', evil]);
});

test('parentheses balance (outside string and regex literals)', () => {
  for (const network of ['on', 'off'] as const) {
    const text = seatbeltProfile(policy({ network })).text.replace(/#?"(?:[^"\\]|\\.)*"/g, '""').replace(/;[^\n]*/g, '');
    let depth = 0;
    for (const ch of text) {
      if (ch === '(') depth++;
      if (ch === ')') depth--;
      assert.ok(depth >= 0, 'closing paren without an opening one');
    }
    assert.equal(depth, 0);
  }
});

test('no allow rule is emitted without filters (a bare rule would match everything)', () => {
  const bareAllowed = new Set(['(allow process-fork)', '(allow process-exec)', '(allow sysctl-read)', '(allow user-preference-read)', '(allow ipc-posix-sem)', '(allow pseudo-tty)', '(allow file-read*)']);
  for (const network of ['on', 'off'] as const) {
    const p = seatbeltProfile(policy({ network, writableRoots: [], readOnlyPaths: [], denyRead: [] }));
    const ls = p.text.split('\n');
    for (let i = 0; i < ls.length; i++) {
      const l = ls[i]!;
      if (/^\(allow [^()]+\)$/.test(l)) {
        assert.ok(bareAllowed.has(l) || (network === 'on' && l === '(allow network*)'), `unexpected bare rule ${l}`);
      }
      // A multi-line rule must have at least one filter line before its closing paren.
      if (/^\((allow|deny) [^()]+$/.test(l)) assert.notEqual(ls[i + 1], ')', `empty rule at ${l}`);
    }
    assert.ok(!ls.includes('(allow file-write*)'));
  }
});

test('writes are allowed only under the workspace, the writable roots and TMPDIR', () => {
  const p = seatbeltProfile(policy());
  const block = p.text.slice(p.text.indexOf('(allow file-write*\n'), p.text.indexOf('\n)\n', p.text.indexOf('(allow file-write*\n')));
  const names = [...block.matchAll(/\(param "([A-Z_0-9]+)"\)/g)].map((m) => m[1]);
  assert.deepEqual(names.sort(), ['TMPDIR', 'WORKSPACE', 'WRITABLE_ROOT_0']);
  assert.equal(p.params.find(([k]) => k === 'WRITABLE_ROOT_0')![1], '/Users/dev/.claude');
});

test('read-denied paths are denied for reading and writing after the write allow', () => {
  const p = seatbeltProfile(policy());
  const { at } = lines(p.text);
  for (const d of policy().denyRead) {
    const name = paramOf(p, d);
    assert.equal(ruleMentioning(p.text, name), '(deny file-read* file-write*');
    assert.ok(at(`(subpath (param "${name}"))`) > at('(allow file-write*'));
  }
});

test('the private TMPDIR inside the denied runtime dir is put back after the deny', () => {
  const p = seatbeltProfile(policy());
  const { at } = lines(p.text);
  const putBack = p.params.find(([k, v]) => k.startsWith('PUT_BACK_') && !k.includes('ANCESTOR') && v === policy().tmpDir);
  assert.ok(putBack, JSON.stringify(p.params));
  assert.equal(ruleMentioning(p.text, putBack[0]), '(allow file-read* file-write*');
  assert.ok(at(`(param "${putBack[0]}")`) > at(`(param "${paramOf(p, '/Users/dev/Library/Caches/celistra-run')}")`));
  // realpath() must be able to stat its way down through the denied dir.
  const walk = p.params.filter(([k]) => k.startsWith('PUT_BACK_ANCESTOR_')).map(([, v]) => v).sort();
  assert.deepEqual(walk, ['/Users/dev/Library/Caches/celistra-run', '/Users/dev/Library/Caches/celistra-run/tmp']);
});

test('read-only carve-outs are denied for writing after the write allow and the put-backs', () => {
  const p = seatbeltProfile(policy());
  const { at } = lines(p.text);
  const name = paramOf(p, '/Users/dev/code/wt-a/sub/.git');
  assert.equal(ruleMentioning(p.text, name), '(deny file-write*');
  assert.ok(at(`(param "${name}")`) > at('(allow file-read* file-write*'));
});

test('ancestors of protected paths inside writable roots cannot be renamed or unlinked; outside ones need no pin', () => {
  const p = seatbeltProfile(policy());
  const pins = p.params.filter(([k]) => k.startsWith('PROTECTED_ANCESTOR_')).map(([, v]) => v).sort();
  assert.deepEqual(pins, ['/Users/dev/code/wt-a', '/Users/dev/code/wt-a/sub']);
  assert.equal(ruleMentioning(p.text, 'PROTECTED_ANCESTOR_0'), '(deny file-write-unlink');
});

test('network off: no network allow except unix sockets inside writable roots', () => {
  const p = seatbeltProfile(policy({ network: 'off' }));
  assert.ok(!p.text.includes('(allow network*)'));
  assert.ok(!/\(remote (ip|tcp|udp)/.test(p.text));
  assert.match(p.text, /\(allow network-outbound\n {2}\(remote unix-socket \(subpath \(param "WORKSPACE"\)\)\)/);
});

test('network on: everything, but unix sockets in read-denied paths (the daemon socket) are denied after it', () => {
  const p = seatbeltProfile(policy({ network: 'on' }));
  const { at } = lines(p.text);
  const denyAt = at('(deny network-outbound');
  assert.ok(at('(allow network*)') >= 0 && denyAt > at('(allow network*)'));
  assert.match(p.text, /com\.apple\.dnssd\.service/);
  assert.ok(!seatbeltProfile(policy({ network: 'off' })).text.includes('com.apple.dnssd.service'));
});

test('services that start programs outside the sandbox are not reachable', () => {
  const text = seatbeltProfile(policy({ network: 'on' })).text;
  for (const svc of ['launchservicesd', 'com.apple.coreservices', 'appleevents', 'com.apple.xpc.launchd']) assert.ok(!text.includes(svc), svc);
});

test('/tmp, /var and /etc paths are given in their /private form', () => {
  assert.equal(seatbeltPath('/tmp/x'), '/private/tmp/x');
  assert.equal(seatbeltPath('/var/folders/ab/T'), '/private/var/folders/ab/T');
  assert.equal(seatbeltPath('/etc'), '/private/etc');
  assert.equal(seatbeltPath('/private/tmp/x'), '/private/tmp/x');
  assert.equal(seatbeltPath('/tmpfoo'), '/tmpfoo');
  const p = seatbeltProfile(policy({ workspace: '/tmp/ws', tmpDir: '/var/folders/ab/T/run-1', readOnlyPaths: [], denyRead: [] }));
  assert.equal(paramOf(p, '/private/tmp/ws'), 'WORKSPACE');
  assert.equal(paramOf(p, '/private/var/folders/ab/T/run-1'), 'TMPDIR');
});

test('sandbox-exec gets -p PROFILE, one -D per parameter, then -- and the command untouched', () => {
  const p = seatbeltProfile(policy());
  const argv = ['sh', '-c', 'echo "$1"', '--', '-D'];
  const args = sandboxExecArgs(p, argv);
  assert.deepEqual(args.slice(0, 2), ['-p', p.text]);
  const dash = args.indexOf('--');
  assert.deepEqual(args.slice(dash + 1), argv);
  const defs = args.slice(2, dash);
  assert.equal(defs.length, p.params.length * 2);
  for (let i = 0; i < defs.length; i += 2) assert.equal(defs[i], '-D');
  assert.ok(defs.includes(`WORKSPACE=${policy().workspace}`));
});

test('a workspace that is itself read-denied is refused', () => {
  assert.throws(() => seatbeltProfile(policy({ denyRead: ['/Users/dev/code/wt-a'] })), (e: unknown) => e instanceof CelistraError && e.code === 'E_POLICY');
});
