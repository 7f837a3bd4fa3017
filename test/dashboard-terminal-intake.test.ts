/**
 * A browser tab takes no more agent output than it can draw (web/terminal-view.ts): a tab
 * that falls behind, or is hidden, asks the daemon to hold the stream, and comes back with
 * a fresh screen — intact, with what was printed meanwhile. Skips, saying why, where no
 * chromium is installed. The protocol itself (hold, resync) is tested without a browser.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { cleanup, makeSandbox, spawnAgent, waitFor, type Sandbox } from './daemon-harness.js';
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

test('a tab flooded faster than it can draw holds the stream and ends on the intact screen, having taken less than the flood', { skip, timeout: 120_000 }, async () => {
  const bytes = 40_000_000;
  await spawnAgent(sb, 'flood-tab', ['sh', '-c', `read go; yes '${'y'.repeat(79)}' | head -c ${bytes}; echo; echo FLOOD-END-MARKER; exec sleep 300`]);
  const page = await openAttached('flood-tab');
  await sb.client.call('POST', '/v1/agents/flood-tab/input', { data: 'go\r' });
  await waitFor('the flood to end', async () => ((await sb.client.logs('flood-tab')).includes('FLOOD-END-MARKER') ? true : undefined), 100_000);
  await waitFor('the marker on the tab', async () => (/FLOOD-END-MARKER/.test(await terminalText(page)) ? true : undefined), 30_000);
  const s = await sent(page);
  assert.ok(s.includes('hold') && s.includes('resync'), `the tab held the stream and resynced (sent: ${s.join(', ')})`);
  const taken = await page.evaluate(() => (window as unknown as AttachSpy).__bytes);
  assert.ok(taken < bytes, `the tab took ${taken} of ${bytes} bytes`);
  await page.context().close();
});
