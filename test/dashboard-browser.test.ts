/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core, against a
 * harness daemon with three agents. Skips, saying why, where no chromium is installed.
 * CELISTRA_DASHBOARD_SCREENSHOTS=DIR also saves the screenshots docs/dashboard.md shows.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import { agent, cleanup, makeSandbox, spawnAgent, waitFor, type Sandbox } from './daemon-harness.js';
import type { ApprovalView } from '../src/approvals/request.js';
import { hostNumstat, loginLink, startDashboardDaemon, taskRepo, type DashboardDaemon } from './dashboard-support.js';

const CHROMIUM = [process.env.CELISTRA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const skip = CHROMIUM ? false : 'no chromium found (apt-get install chromium, or set CELISTRA_CHROMIUM): the browser tests need a real browser';
const SHOTS = process.env.CELISTRA_DASHBOARD_SCREENSHOTS;
const AGENTS = ['alpha', 'bravo', 'charlie'];
const loop = (name: string) => ['sh', '-c', `echo "ready ${name}"; while read x; do echo "got $x"; done`];

let sb: Sandbox;
let d: DashboardDaemon;
let browser: Browser;

before(async () => {
  if (skip) return;
  sb = makeSandbox();
  // Short restart delays: the crash-loop test reaches crashed-out in well under a second.
  d = await startDashboardDaemon(sb, ['--restart-delay-ms', '20']);
  for (const name of AGENTS) await spawnAgent(sb, name, loop(name));
  for (const name of AGENTS) await waitFor(`${name} ready`, async () => (await sb.client.logs(name)).includes('ready') || undefined);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'],
  });
});

after(async () => {
  await browser?.close();
  if (sb) await cleanup(sb, d?.daemon);
});

/** A fresh browser context logged in through a new link from `celistra dashboard`. */
async function openDashboard(viewport = { width: 1280, height: 800 }, touch = false): Promise<Page> {
  const context = await browser.newContext({ viewport, hasTouch: touch, isMobile: touch });
  const page = await context.newPage();
  await page.goto(loginLink(sb));
  assert.equal(new URL(page.url()).pathname, '/', 'the login redirects to the page, without the token');
  await page.waitForSelector('#connection:text("live")');
  return page;
}

/** The fleet as the page shows it: [name, state] per row, top to bottom. */
function rows(page: Page): Promise<string[][]> {
  return page.$$eval('#fleet-rows tr', (trs) => trs.map((tr) => [tr.querySelector('.name')?.textContent ?? '', tr.querySelector('.state')?.textContent ?? '']));
}

async function waitForRows(page: Page, want: (r: string[][]) => boolean, what: string): Promise<string[][]> {
  return waitFor(what, async () => {
    const r = await rows(page);
    return want(r) ? r : undefined;
  }, 15_000);
}

function terminalText(page: Page): Promise<string> {
  return page.$eval('#terminal .xterm-rows', (el) => (el.textContent ?? '').replace(/\u00a0/g, ' '));
}

test('three agents appear as three rows with their names and states', { skip }, async () => {
  const page = await openDashboard();
  const shown = await waitForRows(page, (r) => r.length === 3, 'three rows');
  assert.deepEqual(shown, AGENTS.map((n) => [n, 'running']));
  await page.context().close();
});

test('clicking a row shows the agent\'s current screen, and typed keys reach it and echo back', { skip }, async () => {
  const page = await openDashboard();
  await page.click('#fleet-rows tr[data-agent="bravo"]');
  await waitFor('bravo\'s screen', async () => (await terminalText(page)).includes('ready bravo') || undefined, 15_000);
  await page.keyboard.type('from the browser');
  await page.keyboard.press('Enter');
  await waitFor('the echo in the page', async () => (await terminalText(page)).includes('got from the browser') || undefined, 15_000);
  assert.match((await sb.client.logs('bravo')).toString(), /got from the browser/, 'the agent itself received the keys');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-attached.png') });
  await page.context().close();
});

test('two tabs on one agent both show what one of them types', { skip }, async () => {
  const typing = await openDashboard();
  const watching = await openDashboard();
  for (const page of [typing, watching]) {
    await page.click('#fleet-rows tr[data-agent="alpha"]');
    await waitFor('alpha\'s screen', async () => (await terminalText(page)).includes('ready alpha') || undefined, 15_000);
  }
  await typing.keyboard.type('two tabs');
  await typing.keyboard.press('Enter');
  for (const page of [typing, watching]) await waitFor('the echo in each tab', async () => (await terminalText(page)).includes('got two tabs') || undefined, 15_000);
  await typing.context().close();
  await watching.context().close();
});

test('a read-only view shows the screen but sends no keys', { skip }, async () => {
  const page = await openDashboard();
  await page.click('#fleet-rows tr[data-agent="alpha"]');
  await page.check('#read-only');
  await waitFor('the read-only view', async () => ((await page.textContent('#terminal-status')) ?? '').startsWith('watching alpha') || undefined, 15_000);
  // The status comes with the screen's message; xterm draws it on its next frame.
  await waitFor('its screen drawn', async () => /ready alpha/.test(await terminalText(page)) || undefined, 15_000);
  await page.click('#terminal');
  await page.keyboard.type('ignored');
  await page.keyboard.press('Enter');
  await new Promise((r) => setTimeout(r, 500));
  assert.doesNotMatch((await sb.client.logs('alpha')).toString(), /ignored/, 'the agent got nothing');
  await page.context().close();
});

test('kill with SIGINT from the signal picker stops the agent, and the row follows live', { skip }, async () => {
  const page = await openDashboard();
  await page.click('#fleet-rows tr[data-agent="charlie"]');
  await page.selectOption('#signal', 'INT');
  await page.click('#kill');
  await waitFor('charlie stopped', async () => (await agent(sb, 'charlie')).state === 'stopped' || undefined, 15_000);
  assert.equal((await agent(sb, 'charlie')).lastExit?.signal, 'SIGINT');
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'charlie' && s === 'stopped'), 'charlie stopped on the page');
  await page.context().close();
});

test('a change made elsewhere reaches the open page without a reload', { skip }, async () => {
  const page = await openDashboard();
  await waitForRows(page, (r) => r.length === 3, 'three rows');
  await spawnAgent(sb, 'delta', loop('delta'));
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'delta' && s === 'running'), 'delta on the page');
  await sb.client.call('POST', '/v1/agents/delta/kill', { signal: 'KILL' });
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'delta' && s === 'stopped'), 'delta stopped on the page');
  await page.context().close();
});

test('restart and remove from the agent panel', { skip }, async () => {
  const page = await openDashboard();
  await spawnAgent(sb, 'echo', loop('echo'));
  await page.click('#fleet-rows tr[data-agent="echo"]');
  await waitFor('echo\'s screen', async () => (await terminalText(page)).includes('ready echo') || undefined, 15_000);
  const firstPid = (await agent(sb, 'echo')).pid;
  await page.click('#restart');
  await waitFor('restarted', async () => {
    const a = await agent(sb, 'echo');
    return (a.restarts === 1 && a.pid !== null && a.pid !== firstPid && (await sb.client.logs('echo')).includes('ready echo')) || undefined;
  }, 15_000);
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'echo' && s === 'running'), 'echo running again');
  await page.click('#remove');
  await page.waitForSelector('#action-status:text("remove failed: agent echo is running")');
  await page.selectOption('#signal', 'KILL');
  await page.click('#kill');
  await waitFor('echo stopped', async () => (await agent(sb, 'echo')).state === 'stopped' || undefined, 15_000).catch(async (e) => {
    throw new Error(`${(e as Error).message}: page says ${await page.textContent('#action-status')}, daemon says ${(await agent(sb, 'echo')).state}`);
  });
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'echo' && s === 'stopped'), 'echo stopped on the page');
  await page.click('#remove');
  await waitForRows(page, (r) => !r.some(([n]) => n === 'echo'), 'echo gone from the page');
  assert.equal(await page.isVisible('#agent-panel'), false, 'the panel of a removed agent closes');
  assert.ok(!(await sb.client.listAgents()).some((a) => a.name === 'echo'));
  await page.context().close();
});

test('the spawn form starts an agent with the given command, one argument per line', { skip }, async () => {
  const page = await openDashboard();
  await page.click('#new-agent');
  await page.fill('#spawn-form [name=name]', 'foxtrot');
  await page.fill('#spawn-form [name=workspace]', sb.workspace);
  await page.fill('#spawn-form [name=argv]', ['sh', '-c', 'echo "ready $GREETING"; while read x; do echo "got $x"; done'].join('\n'));
  await page.fill('#spawn-form [name=env]', 'GREETING=from the form');
  await page.click('#spawn-submit');
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'foxtrot' && s === 'running'), 'foxtrot on the page');
  // The fleet stream may show the row before the spawn's answer reaches the form.
  await page.waitForSelector('#spawn-dialog', { state: 'hidden', timeout: 10_000 }).catch(() => undefined);
  assert.equal(await page.isVisible('#spawn-dialog'), false, 'the dialog closes');
  const spawned = await agent(sb, 'foxtrot');
  assert.deepEqual(spawned.argv, ['sh', '-c', 'echo "ready $GREETING"; while read x; do echo "got $x"; done']);
  assert.deepEqual(spawned.envKeys, ['GREETING']);
  await waitFor('its output', async () => (await sb.client.logs('foxtrot')).includes('ready from the form') || undefined, 15_000);
  await page.context().close();
});

test('the spawn form passes approval rules and what the terminal may pass, as ctl spawn --approve/--auto-deny/--allow-terminal', { skip }, async () => {
  const page = await openDashboard();
  await page.click('#new-agent');
  await page.fill('#spawn-form [name=name]', 'form-rules');
  await page.fill('#spawn-form [name=workspace]', sb.workspace);
  await page.fill('#spawn-form [name=argv]', ['sh', '-c', 'echo ready; exec sleep 300'].join('\n'));
  await page.selectOption('#spawn-form [name=approvalsOtherwise]', 'deny');
  await page.fill('#spawn-form [name=approvalsAsk]', 'Bash(git push:*)\nWebFetch');
  await page.check('#spawn-form [name=terminalAllow][value=title]');
  await page.check('#spawn-form [name=terminalAllow][value=notify]');
  await page.click('#spawn-submit');
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'form-rules' && s === 'running'), 'form-rules on the page');
  assert.deepEqual((await agent(sb, 'form-rules')).terminalAllow, ['title', 'notify']);
  // The rules are in the daemon's record of the agent (no listing shows them).
  const db = new Database(join(sb.paths.stateDir, 'agents.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare('SELECT record FROM agents WHERE name = ?').get('form-rules') as { record: string };
    assert.deepEqual(JSON.parse(row.record).spec.approvals, { ask: ['Bash(git push:*)', 'WebFetch'], otherwise: 'deny' });
  } finally {
    db.close();
  }
  await page.context().close();
});

test('a spawn the daemon refuses shows its message in the form and starts nothing', { skip }, async () => {
  const page = await openDashboard();
  const before = (await sb.client.listAgents()).map((a) => a.name);
  await page.click('#new-agent');
  await page.fill('#spawn-form [name=name]', 'golf');
  await page.fill('#spawn-form [name=workspace]', 'relative/dir');
  await page.fill('#spawn-form [name=argv]', 'true');
  await page.click('#spawn-submit');
  await page.waitForSelector('#spawn-error:text("spawn refused:")');
  assert.equal(await page.isVisible('#spawn-dialog'), true, 'the dialog stays open');
  assert.deepEqual((await sb.client.listAgents()).map((a) => a.name), before);
  await page.context().close();
});

test('a crash-looping agent shows its restarts rising, ends crashed-out and sorts first', { skip }, async () => {
  const page = await openDashboard();
  await spawnAgent(sb, 'zulu-crash', ['sh', '-c', 'exit 3'], { autoRestart: true });
  const shown = await waitForRows(page, (r) => r[0]?.[0] === 'zulu-crash' && r[0][1] === 'crashed-out', 'zulu-crash crashed-out, first');
  assert.equal(shown[0]![0], 'zulu-crash', 'the agent needing a person sorts before the running ones (and before alpha by name)');
  const restarts = await page.$eval('#fleet-rows tr[data-agent="zulu-crash"] td[data-label=restarts]', (td) => Number(td.textContent));
  assert.ok(restarts >= 5, `restarts shown: ${restarts}`);
  await page.context().close();
});

test('the page at 390×844 with touch shows the fleet, and an agent\'s screen full size', { skip }, async () => {
  const page = await openDashboard({ width: 390, height: 844 }, true);
  const shown = await waitForRows(page, (r) => r.length >= 3, 'the rows');
  assert.ok(shown.some(([n]) => n === 'alpha'));
  const box = await page.locator('#fleet-rows tr[data-agent="alpha"]').boundingBox();
  assert.ok(box && box.width <= 390 && box.x >= 0, `the row fits the phone: ${JSON.stringify(box)}`);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-phone.png') });
  await page.tap('#fleet-rows tr[data-agent="alpha"]');
  await waitFor('alpha\'s screen', async () => (await terminalText(page)).includes('ready alpha') || undefined, 15_000);
  assert.equal(await page.isVisible('#fleet'), false, 'the screen takes the whole phone');
  await page.tap('#back');
  assert.equal(await page.isVisible('#fleet'), true, 'back returns to the fleet');
  await page.context().close();
});

test('without a session the page shows no agents and says how to log in', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${d.origin}/`);
  await page.waitForSelector('#notice:text("Not logged in")');
  assert.equal((await rows(page)).length, 0);
  await context.close();
});

const ASK = '"$CELISTRA_NODE" "$CELISTRA_CLI" ask';

/** An agent that asks one question and prints `answer=<exit status of celistra ask>`. */
async function asker(name: string, question: string): Promise<ApprovalView> {
  await spawnAgent(sb, name, ['sh', '-c', `${ASK} "${question}" --tool Bash --input '{"command":"git push origin main"}'; echo "answer=$?"; sleep 3600`]);
  return waitFor(`${name}'s request`, async () => (await sb.client.call<{ approvals: ApprovalView[] }>('GET', '/v1/approvals')).approvals.find((a) => a.agent === name), 30_000);
}

test('a pending approval appears live, marks its agent waiting, and is approved from the page', { skip }, async () => {
  const page = await openDashboard();
  const req = await asker('hotel', 'push to main?');
  const card = page.locator(`#approvals-list li[data-approval="${req.id}"]`);
  await card.waitFor({ timeout: 15_000 });
  assert.match((await card.textContent()) ?? '', /hotel.*Bash.*push to main\?.*git push origin main/s);
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'hotel' && s === 'waiting-approval (1)'), 'hotel waiting on the page');
  const order = await rows(page);
  const firstRunning = order.findIndex(([, s]) => s === 'running');
  assert.ok(order.findIndex(([n]) => n === 'hotel') < firstRunning, `the agent needing a person sorts before the running ones: ${JSON.stringify(order)}`);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-approvals.png') });
  await card.locator('button.approve').click();
  await waitFor('the agent\'s answer', async () => (await sb.client.logs('hotel')).toString().includes('answer=0') || undefined, 15_000);
  await card.waitFor({ state: 'detached', timeout: 15_000 });
  const answered = (await sb.client.call<{ approval: ApprovalView }>('GET', `/v1/approvals/${req.id}`)).approval;
  assert.deepEqual([answered.state, answered.by], ['approved', 'dashboard']);
  await waitForRows(page, (r) => r.some(([n, s]) => n === 'hotel' && s === 'running'), 'hotel running again on the page');
  await page.context().close();
});

test('on a phone (390×844, touch), a pending request is denied with a reason the agent gets', { skip }, async () => {
  const page = await openDashboard({ width: 390, height: 844 }, true);
  const req = await asker('india', 'delete the cache?');
  const card = page.locator(`#approvals-list li[data-approval="${req.id}"]`);
  await card.waitFor({ timeout: 15_000 });
  const deny = await card.locator('button.deny').boundingBox();
  assert.ok(deny && deny.x >= 0 && deny.x + deny.width <= 390 && deny.height >= 40, `the deny button fits and is big enough to tap: ${JSON.stringify(deny)}`);
  await card.locator('.approval-reason').fill('run the tests first');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-phone-approval.png') });
  await card.locator('button.deny').tap();
  await waitFor('the agent\'s answer', async () => (await sb.client.logs('india')).toString().includes('answer=1') || undefined, 15_000);
  const answered = (await sb.client.call<{ approval: ApprovalView }>('GET', `/v1/approvals/${req.id}`)).approval;
  assert.deepEqual([answered.state, answered.by, answered.reason], ['denied', 'dashboard', 'run the tests first']);
  await page.context().close();
});

test('while attached on a phone, a new request shows as a badge that leads back to it', { skip }, async () => {
  const page = await openDashboard({ width: 390, height: 844 }, true);
  await page.tap('#fleet-rows tr[data-agent="alpha"]');
  await waitFor('alpha\'s screen', async () => (await terminalText(page)).includes('ready alpha') || undefined, 15_000);
  const req = await asker('juliet', 'install a package?');
  await page.waitForSelector('#approvals-badge:text("1 waiting")', { timeout: 15_000 }).catch(async (e) => {
    throw new Error(`${(e as Error).message}: badge ${await page.$eval('#approvals-badge', (b) => b.outerHTML)}, cards ${await page.$$eval('#approvals-list li', (l) => l.length)}`);
  });
  await page.tap('#approvals-badge');
  assert.equal(await page.isVisible(`#approvals-list li[data-approval="${req.id}"]`), true);
  await sb.client.call('POST', `/v1/approvals/${req.id}/deny`, {});
  await page.waitForSelector('#approvals-badge', { state: 'hidden', timeout: 15_000 });
  await page.context().close();
});

test('the activity feed shows what happened before the page opened and what happens while it is open', { skip }, async () => {
  await spawnAgent(sb, 'kilo', loop('kilo'));
  const page = await openDashboard();
  await page.waitForSelector('#activity-list li[data-type="spawn"]:has(.event-agent:text-is("kilo"))', { timeout: 15_000 });
  await sb.client.call('POST', '/v1/agents/kilo/kill', { signal: 'HUP' });
  const line = page.locator('#activity-list li[data-type="kill"]:has(.event-agent:text-is("kilo"))');
  await line.waitFor({ timeout: 15_000 });
  assert.match((await line.textContent()) ?? '', /kill -HUP/);
  await page.waitForSelector('#activity-list li[data-type="exit"]:has(.event-agent:text-is("kilo"))', { timeout: 15_000 });
  const ids = await page.$$eval('#activity-list li', (lis) => lis.map((li) => Number((li as HTMLElement).dataset.event)));
  assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
  assert.equal(new Set(ids).size, ids.length, 'each event once');
  await page.context().close();
});

test('the diff view shows a task\'s files and patch as text, and pull brings it into its base; a refusal is shown and changes nothing', { skip }, async () => {
  const { repo, git } = taskRepo(sb, 'lima');
  await spawnAgent(sb, 'lima', ['sh', '-c', `printf '<b>bold</b>\\n' > page.html && git add page.html && git -c user.email=a@example.com -c user.name=agent commit -qm page && echo DONE; exec sleep 3600`], { worktree: 'lima', repo, workspace: undefined });
  await waitFor('lima done', async () => (await sb.client.logs('lima')).includes('DONE') || undefined, 30_000);
  const page = await openDashboard();
  await page.click('#fleet-rows tr[data-agent="lima"]');
  await page.click('#show-diff');
  await page.waitForSelector('#diff-view .diff-summary:text("agent/lima: 1 file changed, +1 -0")', { timeout: 15_000 });
  assert.deepEqual(await page.$$eval('#diff-view .diff-files tr', (trs) => trs.map((tr) => tr.textContent)), ['+1-0page.html']);
  assert.equal(await page.locator('#diff-view .diff-patch .add').first().textContent(), '+<b>bold</b>\n');
  assert.equal(await page.locator('#diff-view .diff-patch b').count(), 0, 'the patch is shown as text, never as markup');
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-diff.png') });
  writeFileSync(join(repo, 'README'), 'edited on main\n');
  const head = git('rev-parse', 'HEAD').stdout;
  await page.click('#diff-view .pull');
  await page.waitForSelector('#diff-view .diff-status:text("pull refused:")', { timeout: 15_000 });
  assert.match((await page.textContent('#diff-view .diff-status')) ?? '', /has uncommitted changes/);
  assert.equal(git('rev-parse', 'HEAD').stdout, head, 'main did not move');
  assert.equal(git('checkout', '--', 'README').status, 0);
  await page.click('#diff-view .pull');
  await page.waitForSelector('#diff-view .diff-status:text("agent/lima → main: fast-forward")', { timeout: 15_000 });
  assert.equal(readFileSync(join(repo, 'page.html'), 'utf8'), '<b>bold</b>\n');
  // Pulled, the task has nothing its base lacks: its row is measured again at once.
  assert.equal((await waitForDiffCell(page, 'lima', { files: 0, added: 0, removed: 0 })).text, 'no changes');
  await page.click('#show-terminal');
  await waitFor('lima\'s screen', async () => (await terminalText(page)).includes('DONE') || undefined, 15_000);
  await page.context().close();
});

/** A row's diff cell: its text and the counts it carries. */
function diffCell(page: Page, name: string): Promise<{ text: string; title: string; files?: string; added?: string; removed?: string }> {
  return page.$eval(`#fleet-rows tr[data-agent="${name}"] td.diffstat`, (td) => ({
    text: td.textContent ?? '',
    title: (td as HTMLElement).title,
    files: (td as HTMLElement).dataset.files,
    added: (td as HTMLElement).dataset.added,
    removed: (td as HTMLElement).dataset.removed,
  }));
}

async function waitForDiffCell(page: Page, name: string, want: { files: number; added: number; removed: number }) {
  return waitFor(`${name}'s row to show ${JSON.stringify(want)}`, async () => {
    const c = await diffCell(page, name).catch(() => undefined);
    return c && c.files === String(want.files) && c.added === String(want.added) && c.removed === String(want.removed) ? c : undefined;
  }, 30_000);
}

test('a task agent\'s row shows its diff stat as git diff --numstat counts it, and follows a further edit made as it exits; plain agents show —, a failed stat says why', { skip }, async () => {
  const { repo, git } = taskRepo(sb, 'mike');
  const base = git('rev-parse', 'main').stdout.trim();
  const script = `printf 'one\\ntwo\\nthree\\n' > new.txt && printf 'changed\\n' > README && echo EDITED && read x && printf 'four\\nfive\\n' >> new.txt && echo FINAL`;
  const spawned = await spawnAgent(sb, 'mike', ['sh', '-c', script], { worktree: 'mike', repo, workspace: undefined });
  const page = await openDashboard();
  await waitFor('the first edit', async () => (await sb.client.logs('mike')).includes('EDITED') || undefined, 30_000);
  const first = hostNumstat(spawned.workspace, base);
  assert.deepEqual(first, { files: 2, added: 4, removed: 1 });
  const shown = await waitForDiffCell(page, 'mike', first);
  assert.equal(shown.text, '2 files +4 -1');
  assert.equal((await diffCell(page, 'alpha')).text, '—', 'a plain workspace has no base');

  // A task whose branch is gone cannot be measured: the row says so, the reason on hover.
  const { repo: repo2 } = taskRepo(sb, 'oscar');
  await spawnAgent(sb, 'oscar', ['sh', '-c', 'git checkout -q --detach && git branch -q -D agent/oscar; echo DONE; exec sleep 3600'], { worktree: 'oscar', repo: repo2, workspace: undefined });
  await waitFor('oscar done', async () => (await sb.client.logs('oscar')).includes('DONE') || undefined, 30_000);
  // Its exit is measured at once.
  await sb.client.call('POST', '/v1/agents/oscar/kill', { signal: 'KILL' });
  let last: unknown;
  const failed = await waitFor('oscar\'s failed stat', async () => {
    const c = await diffCell(page, 'oscar').catch(() => undefined);
    last = [c, (await sb.client.logs('oscar')).toString()];
    return c?.text === '⚠ failed' ? c : undefined;
  }, 30_000).catch((e: Error) => assert.fail(`${e.message}; last seen: ${JSON.stringify(last)}`));
  assert.match(failed.title, /agent\/oscar no longer exists/);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-fleet.png') });

  await sb.client.call('POST', '/v1/agents/mike/input', { data: 'go\n' });
  const final = await waitFor('mike to exit', async () => ((await agent(sb, 'mike')).state === 'exited' ? hostNumstat(spawned.workspace, base) : undefined), 30_000);
  assert.deepEqual(final, { files: 2, added: 6, removed: 1 });
  assert.equal((await waitForDiffCell(page, 'mike', final)).text, '2 files +6 -1', 'the open page follows without a reload');
  await page.context().close();
});

test('the spawn form starts an agent with the network off, and the agent really has none; a bad limit is refused in the form', { skip }, async () => {
  // The agent connects to the dashboard's own port on loopback: open with the network on.
  const probe = `require('net').connect(${d.port}, '127.0.0.1').on('connect', () => { console.log('NET-OPEN'); process.exit(0); }).on('error', (e) => { console.log('NET-BLOCKED ' + e.code); process.exit(0); })`;
  await spawnAgent(sb, 'net-on', [process.execPath, '-e', probe], { network: 'on' });
  await waitFor('the control agent', async () => (await sb.client.logs('net-on')).includes('NET-OPEN') || undefined, 30_000);
  const page = await openDashboard();
  await page.click('#new-agent');
  await page.fill('#spawn-form [name=name]', 'november');
  await page.fill('#spawn-form [name=workspace]', sb.workspace);
  await page.fill('#spawn-form [name=argv]', [process.execPath, '-e', probe].join('\n'));
  await page.selectOption('#spawn-form [name=network]', 'off');
  await page.fill('#spawn-form [name=memory]', 'lots');
  await page.click('#spawn-submit');
  await page.waitForSelector('#spawn-error:text("spawn refused:")', { timeout: 15_000 });
  assert.match((await page.textContent('#spawn-error')) ?? '', /memory/i, 'the daemon\'s reason, in the form');
  await assert.rejects(agent(sb, 'november'), /no agent|not found|november/i, 'nothing started');
  await page.fill('#spawn-form [name=memory]', '');
  await page.click('#spawn-submit');
  await page.waitForSelector('#spawn-dialog', { state: 'hidden', timeout: 15_000 });
  const logs = await waitFor('the fenced agent', async () => {
    const text = (await sb.client.logs('november')).toString();
    return /NET-(OPEN|BLOCKED)/.test(text) ? text : undefined;
  }, 30_000);
  assert.match(logs, /NET-BLOCKED/, 'with --net off the agent reaches nothing, not even loopback');
  assert.doesNotMatch(logs, /NET-OPEN/);
  await page.context().close();
});

test('a huge diff is capped in the page, which says so and keeps the whole stat', { skip }, async () => {
  const { repo } = taskRepo(sb, 'papa');
  await spawnAgent(sb, 'papa', ['sh', '-c', 'seq 1 200000 > big.txt && echo DONE; exec sleep 3600'], { worktree: 'papa', repo, workspace: undefined });
  await waitFor('papa done', async () => (await sb.client.logs('papa')).includes('DONE') || undefined, 30_000);
  const page = await openDashboard();
  await waitForDiffCell(page, 'papa', { files: 1, added: 200000, removed: 0 });
  await page.click('#fleet-rows tr[data-agent="papa"]');
  await page.click('#show-diff');
  await page.waitForSelector('#diff-view .diff-summary:text("agent/papa: 1 file changed, +200000 -0")', { timeout: 30_000 });
  const notes = (await page.textContent('#diff-view .diff-notes')) ?? '';
  assert.match(notes, /too big to show whole/);
  assert.match(notes, /celistra diff papa/);
  const shownBytes = await page.$eval('#diff-view .diff-patch', (el) => new TextEncoder().encode(el.textContent ?? '').length);
  assert.ok(shownBytes <= 512 * 1024, `the page holds ${shownBytes} bytes of patch`);
  assert.ok(shownBytes > 100 * 1024, 'the first part is shown');
  await page.context().close();
});
