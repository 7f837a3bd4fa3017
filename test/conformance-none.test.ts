import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { noneBackend } from '../src/backends/none/index.js';
import { loadCases, runBackend } from '../conformance/runner.js';

const CLI = fileURLToPath(new URL('../../bin/celistra.js', import.meta.url));

async function cases(...ids: string[]) {
  return (await loadCases()).filter((c) => ids.includes(c.id));
}

test('every case of sections A to G is present, once', async () => {
  const all = await loadCases();
  const ids = all.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length);
  for (let n = 1; n <= 28; n++) assert.ok(ids.some((id) => Number.parseInt(id, 10) === n), `case ${n} missing`);
  for (const c of all) assert.ok(c.attempts || c.custom, `case ${c.id} has nothing to run`);
});

test('with no fence, the keyring case sees the planted keys read, changed and added to', { skip: process.platform !== 'linux' ? 'kernel keyrings are Linux only' : false }, async () => {
  const report = await runBackend(noneBackend, await cases('30'), { strict: true });
  const c30 = report.cases[0]!;
  assert.equal(c30.status, 'ESCAPED', JSON.stringify(c30.attempts.map((a) => a.evidence)));
  const evidence = c30.attempts[0]!.evidence.join('\n');
  assert.match(evidence, /payload leaked/);
  assert.match(evidence, /session payload changed/);
  assert.match(evidence, /user keyring changed/);
});

// Case 19 is left out on purpose: unfenced, its kill(-1) would reach every process on
// the machine, including the victims of a conformance run going on at the same time.
test('with no fence, judged as if every guarantee held, the escapes are reported ESCAPED', async () => {
  const report = await runBackend(noneBackend, await cases('02', '08', '18', '20', '13'), { strict: true });
  for (const c of report.cases) {
    assert.equal(c.status, 'ESCAPED', `${c.id}: ${JSON.stringify(c.attempts.map((a) => [a.name, a.status, a.evidence]))}`);
  }
  const c02 = report.cases.find((c) => c.id === '02')!;
  const append = c02.attempts.find((a) => a.name === 'sh append wt-b')!;
  assert.ok(append.evidence.some((e) => e.includes('wt-b/work.txt') && e.includes('hash')), append.evidence.join('\n'));
  const c18 = report.cases.find((c) => c.id === '18')!;
  assert.ok(c18.attempts.some((a) => a.evidence.some((e) => e.startsWith('secret leaked'))));
});

test('with no fence, allowed work is judged held (the judge is not just saying no)', async () => {
  const report = await runBackend(noneBackend, await cases('01', '14'));
  for (const c of report.cases) assert.equal(c.status, 'held', `${c.id}: ${JSON.stringify(c.attempts.map((a) => [a.name, a.evidence]))}`);
});

test("with no fence and its own declaration, escapes are the backend's declared gaps, with the reason", async () => {
  const report = await runBackend(noneBackend, await cases('03'));
  assert.equal(report.cases[0]!.status, 'gap');
  assert.ok(report.cases[0]!.gaps[0]!.includes('no sandbox'));
});

test('the CLI prints a table and exits 1 on an escape; --json is parseable', () => {
  const r = spawnSync(process.execPath, [CLI, 'conformance', '--backend', 'none', '--strict', '--case', '03', '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1, r.stderr);
  const suite = JSON.parse(r.stdout) as { failures: number; backends: { cases: { id: string; status: string }[] }[] };
  assert.equal(suite.failures, 1);
  assert.equal(suite.backends[0]!.cases[0]!.status, 'ESCAPED');
});

test('the CLI refuses an unknown case glob with a usage error', () => {
  const r = spawnSync(process.execPath, [CLI, 'conformance', '--backend', 'none', '--case', 'no-such-case'], { encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /no case matches/);
});

test('the CLI refuses an unknown option instead of ignoring it', () => {
  const r = spawnSync(process.execPath, [CLI, 'conformance', '--bakend', 'none'], { encoding: 'utf8' });
  assert.equal(r.status, 64);
  assert.match(r.stderr, /unknown option --bakend/);
});
