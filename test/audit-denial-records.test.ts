import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReaderLine, type AuditRecord } from '../src/audit/denial-records.js';
import { RUN_A, RUN_B } from './denial-captured-records.js';

function record(line: string): AuditRecord {
  const parsed = parseReaderLine(line);
  assert.equal(parsed.kind, 'record', line);
  return (parsed as { record: AuditRecord }).record;
}

test('an access record gives its type, serial, time and fields without quotes', () => {
  const r = record(RUN_A[1]!);
  assert.equal(r.type, 1423);
  assert.equal(r.serial, 3);
  assert.equal(r.ts, 1795655288484);
  assert.deepEqual(r.fields, { domain: '18dcb9d23', blockers: 'fs.make_reg', path: '/tmp/den', dev: 'vda', ino: '2212394' });
});

test('a path the kernel wrote as hex (it holds a space) is decoded', () => {
  assert.equal(record(RUN_B[0]!).fields.path, '/tmp/den/with space/f.txt');
});

test('hex-looking values of trusted fields are left alone', () => {
  const r = record(RUN_A[3]!);
  assert.equal(r.fields.arch, 'c000003e');
  assert.equal(r.fields.a3, '1b6');
  assert.equal(r.fields.key, '(null)');
  assert.equal(r.fields.comm, 'sh');
  assert.equal(r.fields.ppid, '18698');
});

test('a domain record names the creating process', () => {
  const r = record(RUN_A[2]!);
  assert.equal(r.type, 1424);
  assert.equal(r.fields.status, 'allocated');
  assert.equal(r.fields.pid, '18699');
  assert.equal(r.fields.exe, '/work/main/native/build/Release/celistra-exec');
});

test('the reader’s own lines and garbage are told apart from records', () => {
  assert.deepEqual(parseReaderLine('ready'), { kind: 'ready' });
  assert.deepEqual(parseReaderLine('overrun'), { kind: 'overrun' });
  assert.deepEqual(parseReaderLine('1423 not an audit record'), { kind: 'malformed', line: '1423 not an audit record' });
});
