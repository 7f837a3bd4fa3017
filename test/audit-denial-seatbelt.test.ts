/**
 * Sample lines in the shape `log stream --style ndjson` prints on macOS (fields trimmed
 * to those the parser reads plus a few neighbours). Written for this test, not captured:
 * there is no Mac here, so the parser is untested against a real one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSeatbeltLogLine } from '../src/audit/denial-seatbelt.js';

function entry(eventMessage: string, timestamp = '2026-11-26 01:15:42.123456+0100'): string {
  return JSON.stringify({ traceID: 1234, eventMessage, eventType: 'logEvent', processImagePath: '/kernel', processID: 0, senderImagePath: '/System/Library/Extensions/Sandbox.kext/Contents/MacOS/Sandbox', subsystem: '', category: '', messageType: 'Error', timestamp });
}

test('a file write violation gives process, pid, operation, path and time', () => {
  assert.deepEqual(parseSeatbeltLogLine(entry('Sandbox: touch(51234) deny(1) file-write-create /private/etc/celistra-probe')), {
    process: 'touch',
    pid: 51234,
    operation: 'file-write-create',
    target: '/private/etc/celistra-probe',
    count: 1,
    ts: Date.parse('2026-11-26T01:15:42.123+01:00'),
  });
});

test('a path with spaces and a process name with parentheses are kept whole', () => {
  const v = parseSeatbeltLogLine(entry('Sandbox: node (worker)(777) deny(1) file-write-data /Users/me/My Documents/notes.txt'));
  assert.equal(v?.process, 'node (worker)');
  assert.equal(v?.pid, 777);
  assert.equal(v?.target, '/Users/me/My Documents/notes.txt');
});

test('network and mach-lookup violations carry their address or service', () => {
  assert.equal(parseSeatbeltLogLine(entry('Sandbox: curl(4242) deny(1) network-outbound 93.184.216.34:443'))?.target, '93.184.216.34:443');
  const mach = parseSeatbeltLogLine(entry('Sandbox: python3(99) deny(1) mach-lookup com.apple.coreservices.launchservicesd'));
  assert.equal(mach?.operation, 'mach-lookup');
  assert.equal(mach?.target, 'com.apple.coreservices.launchservicesd');
});

test('a duplicate report stands for its count, without a pid', () => {
  assert.deepEqual(parseSeatbeltLogLine(entry('Sandbox: 12 duplicate reports for cat deny(1) file-read-data /Users/me/.ssh/id_ed25519')), {
    process: 'cat',
    operation: 'file-read-data',
    target: '/Users/me/.ssh/id_ed25519',
    count: 12,
    ts: Date.parse('2026-11-26T01:15:42.123+01:00'),
  });
});

test('other log lines, the stream header and broken JSON are not violations', () => {
  assert.equal(parseSeatbeltLogLine(entry('Sandbox: profile compilation took 3 ms')), undefined);
  assert.equal(parseSeatbeltLogLine('Filtering the log data using "sender == \\"Sandbox\\""'), undefined);
  assert.equal(parseSeatbeltLogLine('{"eventMessage": 5}'), undefined);
  assert.equal(parseSeatbeltLogLine('{not json'), undefined);
});

test('an unreadable timestamp leaves the time out rather than guessing', () => {
  const v = parseSeatbeltLogLine(entry('Sandbox: ls(1) deny(1) file-read-data /x', 'yesterday'));
  assert.equal(v?.ts, undefined);
  assert.equal(v?.operation, 'file-read-data');
});
