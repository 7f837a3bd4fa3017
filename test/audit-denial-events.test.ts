import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LandlockEventAssembler, type LandlockEvent } from '../src/audit/denial-events.js';
import { parseReaderLine } from '../src/audit/denial-records.js';
import { RUN_A, RUN_B, RUN_C_NAMESPACES } from './denial-captured-records.js';

function assemble(lines: string[], flushAtEnd = true): LandlockEvent[] {
  const a = new LandlockEventAssembler();
  const out: LandlockEvent[] = [];
  for (const line of lines) {
    const p = parseReaderLine(line);
    if (p.kind === 'record') out.push(...a.push(p.record));
  }
  if (flushAtEnd) out.push(...a.flush());
  return out;
}

test('a captured run becomes domain start, three denials with their processes, and domain end', () => {
  const events = assemble(RUN_A);
  assert.deepEqual(
    events.map((e) => e.kind),
    ['domain-start', 'denial', 'denial', 'denial', 'domain-end'],
  );
  assert.deepEqual(events[0], { kind: 'domain-start', domain: { domain: '18dcb9d23', creatorPid: 18699, exe: '/work/main/native/build/Release/celistra-exec', comm: 'celistra-exec' } });
  assert.deepEqual(events[1], {
    kind: 'denial',
    denial: { ts: 1795655288484, serial: 3, domain: '18dcb9d23', blockers: ['fs.make_reg'], path: '/tmp/den', dev: 'vda', ino: 2212394, pid: 18699, ppid: 18698, comm: 'sh', exe: '/usr/bin/dash' },
  });
  const mkdir = events[2]!;
  assert.equal(mkdir.kind, 'denial');
  if (mkdir.kind === 'denial') {
    assert.deepEqual(mkdir.denial.blockers, ['fs.make_dir']);
    assert.equal(mkdir.denial.pid, 18700);
    assert.equal(mkdir.denial.comm, 'mkdir');
  }
  assert.deepEqual(events[4], { kind: 'domain-end', domain: { domain: '18dcb9d23', denials: 3 } });
});

test('a signal denial names the process aimed at', () => {
  const signal = assemble(RUN_B).find((e) => e.kind === 'denial' && e.denial.blockers[0] === 'scope.signal');
  assert.ok(signal && signal.kind === 'denial');
  assert.equal(signal.denial.targetPid, 19198);
  assert.equal(signal.denial.targetComm, 'sleep');
  assert.equal(signal.denial.path, undefined);
});

test('a denial without a SYSCALL record is completed by the next event or by flush, without a pid', () => {
  const withoutSyscall = RUN_A.filter((l) => !l.startsWith('1300 '));
  const events = assemble(withoutSyscall, false);
  assert.equal(events.filter((e) => e.kind === 'denial').length, 3);
  for (const e of events) if (e.kind === 'denial') assert.equal(e.denial.pid, undefined);

  const a = new LandlockEventAssembler();
  const p = parseReaderLine(RUN_B[3]!);
  assert.ok(p.kind === 'record');
  assert.deepEqual(a.push(p.record), []);
  assert.equal(a.hasPending, true);
  const flushed = a.flush();
  assert.equal(flushed.length, 1);
  assert.equal(a.hasPending, false);
});

test('a SYSCALL record of another event is not attached to a denial', () => {
  const a = new LandlockEventAssembler();
  const access = parseReaderLine(RUN_A[1]!);
  const otherSyscall = parseReaderLine(RUN_A[5]!);
  assert.ok(access.kind === 'record' && otherSyscall.kind === 'record');
  a.push(access.record);
  const out = a.push(otherSyscall.record);
  assert.equal(out.length, 1);
  assert.ok(out[0]!.kind === 'denial');
  assert.equal(out[0]!.denial.pid, undefined);
});

test('an abstract unix socket is shown as @name', () => {
  const events = assemble(RUN_C_NAMESPACES);
  const denial = events.find((e) => e.kind === 'denial');
  assert.ok(denial && denial.kind === 'denial');
  assert.deepEqual(denial.denial.blockers, ['scope.abstract_unix_socket']);
  assert.equal(denial.denial.path, '@celistra-probe-13984');
  assert.equal(denial.denial.comm, 'socat');
});
