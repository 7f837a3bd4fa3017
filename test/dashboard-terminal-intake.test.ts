/**
 * A browser tab takes no more agent output than it can draw (web/terminal-view.ts): a tab
 * that falls behind asks the daemon for screens instead of bytes until the output calms
 * down; a hidden one asks it to hold the stream, and comes back with a fresh screen —
 * intact, with what was printed meanwhile. Skips, saying why, where no chromium is
 * installed. The protocol itself (hold, resync, screens) is tested without a browser.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cleanup, makeSandbox, record, render, sleep, spawnAgent, waitFor, type Sandbox } from './daemon-harness.js';
import { loginLink, spyOnAttach, startDashboardDaemon, type AttachSpy, type DashboardDaemon } from './dashboard-support.js';

const CHROMIUM = [process.env.CELISTRA_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const skip = CHROMIUM ? false : 'no chromium found (apt-get install chromium, or set CELISTRA_CHROMIUM): the browser tests need a real browser';

let sb: Sandbox;
let d: DashboardDaemon;
let browser: Browser | undefined;

before(async () => {
  sb = makeSandbox();
  d = await startDashboardDaemon(sb);
  if (CHROMIUM) browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-gpu'] });
});

after(async () => {
  await browser?.close();
  await cleanup(sb, d.daemon);
});

const echoLoop = ['sh', '-c', 'echo ready; while read x; do echo "got $x"; done'];

test('an attach client can hold the stream and ask for the screen afresh: nothing is sent while held, the screen then has it all', { timeout: 60_000 }, async () => {
  await spawnAgent(sb, 'holder-proto', echoLoop);
  await waitFor('ready', async () => ((await sb.client.logs('holder-proto')).includes('ready') ? true : undefined));
  const ws = await sb.client.attach('holder-proto', { cols: 80, rows: 24 });
  const messages: Array<{ text?: string; binary?: string }> = [];
  ws.on('message', (m: Buffer, binary: boolean) => messages.push(binary ? { binary: m.toString() } : { text: m.toString() }));
  ws.resume();
  await waitFor('the first screen', () => messages.find((m) => m.text?.includes('"screen"')));
  ws.send(JSON.stringify({ type: 'hold' }));
  // On the same socket, after the hold: the daemon has taken the hold before this input.
  ws.send(JSON.stringify({ type: 'input', data: 'while-held\r' }));
  // The logs answer comes after the echo's output on the holder's stream: by now the echo
  // has been fanned out (to nobody, for a held client).
  await waitFor('the echo', async () => ((await sb.client.logs('holder-proto')).includes('got while-held') ? true : undefined));
  const sentWhileHeld = messages.length;
  ws.send(JSON.stringify({ type: 'resync' }));
  const resync = await waitFor('the resync screen', () => messages.slice(sentWhileHeld).find((m) => m.text?.includes('"resync"')));
  assert.ok(!messages.slice(0, sentWhileHeld).some((m) => m.binary?.includes('got while-held') || m.text?.includes('"error"')), `nothing of the echo was sent while held, and no error: ${JSON.stringify(messages)}`);
  const screen = JSON.parse(resync.text!) as { type: string; data: string };
  assert.equal(screen.type, 'screen');
  assert.match(screen.data, /got while-held/, 'the fresh screen has what was printed while held');

  // Then live again.
  ws.send(JSON.stringify({ type: 'input', data: 'after\r' }));
  await waitFor('live output again', () => messages.find((m) => m.binary?.includes('got after')));
  ws.close();
});

test('a client that acknowledges what it consumed is behind by what it has not acknowledged: held at the limit, resynced once it acks', { timeout: 60_000 }, async () => {
  const bytes = 4_000_000;
  await spawnAgent(sb, 'acker', ['sh', '-c', `read go; yes '${'a'.repeat(79)}' | head -c ${bytes}; echo; echo ACK-END; exec sleep 300`]);
  const ws = await sb.client.attach('acker', { cols: 80, rows: 24 });
  let received = 0;
  const texts: string[] = [];
  ws.on('message', (m: Buffer, binary: boolean) => {
    if (binary) received += m.length;
    else texts.push(m.toString());
  });
  ws.resume();
  await waitFor('the first screen', () => (texts.length > 0 ? true : undefined));
  // Acknowledges nothing (bytes 0 after screen 1): every byte sent stays counted as behind.
  ws.send(JSON.stringify({ type: 'ack', bytes: 0, screens: 1 }));
  ws.send(JSON.stringify({ type: 'input', data: 'go\r' }));
  await waitFor('the flood to end', async () => ((await sb.client.logs('acker')).includes('ACK-END') ? true : undefined), 30_000);
  const heldAt = received;
  assert.ok(heldAt < bytes / 2, `the daemon stopped sending at its limit: ${heldAt} of ${bytes} bytes sent`);
  assert.ok(!texts.some((t) => t.includes('"error"')), `no error: ${texts.join(' ')}`);
  // Everything received is acknowledged: the daemon resyncs it with the current screen.
  ws.send(JSON.stringify({ type: 'ack', bytes: received, screens: 1 }));
  const resync = await waitFor('the resync', () => texts.find((t) => t.includes('"resync"')));
  assert.match((JSON.parse(resync) as { data: string }).data, /ACK-END/, 'the screen it resyncs to is the current one');
  ws.close();
});

/** The agent's screen now, as text lines: a fresh attach's first screen, rendered. */
async function agentScreen(name: string): Promise<string[]> {
  const ws = await sb.client.attach(name, { readOnly: 1 });
  const first = await record(ws).first;
  ws.close();
  return render(first.cols, first.rows, first.data);
}

test('an attach client that asks for screens gets screens, not bytes, while the output floods, then live output again, on the exact screen', { timeout: 90_000 }, async (t) => {
  const bytes = 30_000_000;
  await spawnAgent(sb, 'screens-proto', ['sh', '-c', `read go; yes '${'s'.repeat(79)}' | head -c ${bytes}; echo; echo SCREENS-END; while read x; do echo "got $x"; done`]);
  const ws = await sb.client.attach('screens-proto', { cols: 80, rows: 24 });
  const rec = record(ws);
  await rec.first;
  ws.send(JSON.stringify({ type: 'screens' }));
  ws.send(JSON.stringify({ type: 'input', data: 'go\r' }));
  await waitFor('the flood to end', async () => ((await sb.client.logs('screens-proto')).includes('SCREENS-END') ? true : undefined), 60_000);
  // Within a period or two of the flood's end the last screen comes, and the client is live again.
  await waitFor('a screen with the end', () => rec.controls.find((c) => typeof c.data === 'string' && c.data.includes('SCREENS-END')), 10_000);
  // Output that comes within a period of the last screen still comes as a screen; once a
  // period passes with none, an echo comes as live bytes.
  let live = false;
  for (let i = 0; i < 5 && !live; i++) {
    await sleep(600);
    ws.send(JSON.stringify({ type: 'input', data: `after-${i}\r` }));
    live = await waitFor(`the echo of after-${i}`, () => (rec.outputTail().includes(`got after-${i}`) ? true : rec.controls.some((c) => String(c.data).includes(`got after-${i}`)) ? false : undefined), 10_000);
  }
  assert.ok(live, 'live output again after the flood');
  assert.ok(!rec.controls.some((c) => c.type === 'error'), `no error: ${JSON.stringify(rec.controls.filter((c) => c.type === 'error'))}`);
  const screens = rec.controls.filter((c) => c.type === 'screen');
  assert.ok(screens.length >= 2, `screens during the flood: ${screens.length}`);
  assert.ok(screens.every((c) => c.reason === 'screens'), `each with reason "screens": ${screens.map((c) => c.reason).join(', ')}`);
  const received = rec.outputBytes();
  t.diagnostic(`${screens.length} screens and ${received} bytes for a ${bytes}-byte flood`);
  assert.ok(received < bytes / 20, `far fewer bytes than printed: ${received} of ${bytes}`);
  // What the client shows: its last screen, then every byte after it.
  assert.ok(rec.messages.length < 10_000, `every message recorded: ${rec.messages.length}`);
  let lastAt = 0;
  rec.messages.forEach((m, i) => (lastAt = m.binary ? lastAt : i));
  const lastScreen = JSON.parse(rec.messages[lastAt]!.data.toString()) as { data: string; cols: number; rows: number };
  const shown = await render(lastScreen.cols, lastScreen.rows, lastScreen.data, ...rec.messages.slice(lastAt + 1).map((m) => m.data));
  assert.deepEqual(shown, await agentScreen('screens-proto'), 'the client ends on the agent\'s exact screen');
  ws.close();
});

test('a logs client cannot ask for screens: it is told so, and keeps its stream', { timeout: 30_000 }, async () => {
  await spawnAgent(sb, 'screens-logs', echoLoop);
  await waitFor('ready', async () => ((await sb.client.logs('screens-logs')).includes('ready') ? true : undefined));
  const ws = await sb.client.attach('screens-logs', { readOnly: 1, replay: 'logs' });
  const rec = record(ws);
  await rec.first;
  ws.send(JSON.stringify({ type: 'screens' }));
  const error = await waitFor('the error', () => rec.controls.find((c) => c.type === 'error'));
  assert.match(String(error.message), /screens needs replay=screen/);
  await sb.client.call('POST', '/v1/agents/screens-logs/input', { data: 'still\r' });
  await waitFor('the stream goes on', () => (rec.outputTail().includes('got still') ? true : undefined));
  ws.close();
});

async function openAttached(name: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
  await context.addInitScript(spyOnAttach);
  const page = await context.newPage();
  await page.goto(loginLink(sb));
  await page.waitForSelector('#connection:text("live")');
  await page.click(`#fleet-rows tr[data-agent="${name}"]`);
  await page.waitForSelector(`#terminal-status:text("attached to ${name}")`);
  return page;
}

const sent = (page: Page) => page.evaluate(() => (window as unknown as AttachSpy).__sent);
const terminalText = (page: Page) => page.$eval('#terminal .xterm-rows', (el) => (el.textContent ?? '').replace(/\u00a0/g, ' '));

function setHidden(page: Page, hidden: boolean): Promise<void> {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

test('a hidden tab holds the stream; shown again, it draws the screen as it is now', { skip, timeout: 60_000 }, async () => {
  await spawnAgent(sb, 'hidden-tab', echoLoop);
  await waitFor('ready', async () => ((await sb.client.logs('hidden-tab')).includes('ready') ? true : undefined));
  const page = await openAttached('hidden-tab');
  await setHidden(page, true);
  await waitFor('the hold', async () => ((await sent(page)).includes('hold') ? true : undefined));
  await sb.client.call('POST', '/v1/agents/hidden-tab/input', { data: 'while-hidden\r' });
  await waitFor('the echo', async () => ((await sb.client.logs('hidden-tab')).includes('got while-hidden') ? true : undefined));
  assert.doesNotMatch(await terminalText(page), /got while-hidden/, 'a hidden tab draws nothing');
  await setHidden(page, false);
  await waitFor('the resync asked', async () => ((await sent(page)).includes('resync') ? true : undefined));
  await waitFor('the screen with the echo', async () => (/got while-hidden/.test(await terminalText(page)) ? true : undefined));
  await page.context().close();
});

/** The tab's terminal rows as text, right-trimmed (as render() gives them). */
const terminalRows = (page: Page) => page.$$eval('#terminal .xterm-rows > div', (els) => els.map((el) => (el.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()));

test('a tab flooded faster than it can draw asks for screens, takes a small part of the flood, and ends on the exact screen', { skip, timeout: 120_000 }, async (t) => {
  const bytes = 40_000_000;
  await spawnAgent(sb, 'flood-tab', ['sh', '-c', `read go; yes '${'y'.repeat(79)}' | head -c ${bytes}; echo; echo FLOOD-END-MARKER; exec sleep 300`]);
  const page = await openAttached('flood-tab');
  await sb.client.call('POST', '/v1/agents/flood-tab/input', { data: 'go\r' });
  await waitFor('the flood to end', async () => ((await sb.client.logs('flood-tab')).includes('FLOOD-END-MARKER') ? true : undefined), 100_000);
  await waitFor('the marker on the tab', async () => (/FLOOD-END-MARKER/.test(await terminalText(page)) ? true : undefined), 30_000);
  const expected = await agentScreen('flood-tab');
  let shown: string[] = [];
  await waitFor('the tab to show the agent\'s screen', async () => {
    shown = await terminalRows(page);
    return JSON.stringify(shown) === JSON.stringify(expected) ? true : undefined;
  }, 10_000).catch(() => undefined);
  assert.deepEqual(shown, expected, 'the tab ends on the agent\'s exact screen');
  const s = await sent(page);
  assert.ok(s.includes('screens'), `the tab asked for screens (sent: ${[...new Set(s)].join(', ')})`);
  assert.ok(!s.includes('hold'), `a visible tab never holds the stream (sent: ${[...new Set(s)].join(', ')})`);
  const spy = await page.evaluate(() => {
    const w = window as unknown as AttachSpy;
    return { bytes: w.__bytes, screens: w.__screens, resyncs: w.__resyncs };
  });
  t.diagnostic(`the tab received ${spy.screens} screens, ${spy.resyncs} resyncs and ${spy.bytes} bytes of a ${bytes}-byte flood; it sent ${s.filter((m) => m !== "ack").join(", ")}`);
  assert.ok(spy.screens >= 1, `the tab received screens: ${spy.screens}`);
  assert.ok(spy.bytes < bytes / 10, `the tab took ${spy.bytes} of ${bytes} bytes`);
  await page.context().close();
});
