// Browser tests of the SE dashboard: the real server, Debian's Chromium driven by
// playwright-core (headless, --no-sandbox), and requests filed through the API. The server, the
// browser, the tokens and the board fixture's config come from support.mjs.
//
//   node --test tests/browser/dashboard.test.mjs
//
// Environment (CTest sets the first three): SWITCHBOARD_SERVER (the server binary),
// SWITCHBOARD_SOURCE_DIR (the repository), SWITCHBOARD_SCREENSHOT (where the screenshot of a
// realistic set of requests goes; docs/dashboard.png comes from layout.test.mjs). CHROMIUM
// overrides /usr/bin/chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { client, launchBrowser, sourceDir, startServer, tokenOf, writeBoardConfig } from './support.mjs';

const screenshotPath = process.env.SWITCHBOARD_SCREENSHOT || join(sourceDir, 'build/tests/browser/dashboard.png');

let dir, server, browser, context, page, call, file;

const row = (id, metric) => page.locator(`#clock-rows tr[data-request="${id}"][data-metric="${metric}"]`);
const remainingOf = async (id, metric) => Number(await row(id, metric).locator('.countdown').getAttribute('data-remaining'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-browser-'));
  writeBoardConfig(dir);
  server = await startServer(dir);
  ({ call, file } = client(server));
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
});

after(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('dashboard', () => {
  test('without a token the page says so, and asks for one', async () => {
    await page.goto(`${server.url}/`);
    const panel = page.locator('#token-panel');
    await panel.waitFor({ state: 'visible' });
    assert.match(await page.locator('#token-message').textContent(), /needs an API token/);
    assert.equal(await page.locator('#main').isHidden(), true);
  });

  test('a wrong token is refused with a clear message', async () => {
    await page.fill('#token-input', 'not-a-token');
    await page.press('#token-input', 'Enter');
    await page.waitForFunction(() => /refused/.test(document.getElementById('token-message').textContent));
    assert.match(await page.locator('#token-message').textContent(), /unknown API token/);
  });

  test('the token is asked once; the stream goes live', async () => {
    await page.fill('#token-input', tokenOf('viewer'));
    await page.press('#token-input', 'Enter');
    await page.locator('#live[data-state="live"]').waitFor();
    assert.equal(await page.locator('#token-panel').isHidden(), true);
  });

  let fast;
  test('a request filed through the API appears within 1 s', async () => {
    fast = await file('Acme Corp', 'Search results are missing repositories', { priority: 'high' });
    const filed = Date.now();
    await row(fast.id, 'first_response').waitFor({ timeout: 1000 });
    const took = Date.now() - filed;
    assert.ok(took <= 1000, `took ${took} ms`);
    const text = await row(fast.id, 'first_response').textContent();
    assert.match(text, /Search results are missing repositories/);
    assert.match(text, /Acme Corp/);
    assert.match(text, /SE/);
  });

  test('its countdown decreases in business time and agrees with the API', async () => {
    const first = await remainingOf(fast.id, 'resolution');
    await sleep(2100);
    const later = await remainingOf(fast.id, 'resolution');
    assert.ok(later < first, `${first} -> ${later}`);
    assert.ok(first - later >= 1 && first - later <= 3, `${first} -> ${later}`);
    const fromApi = (await call('GET', `/v1/requests/${fast.id}`, undefined, 'viewer')).clocks
      .find((c) => c.metric === 'resolution').remaining_seconds;
    const onScreen = await remainingOf(fast.id, 'resolution');
    assert.ok(Math.abs(fromApi - onScreen) <= 1, `API ${fromApi}, page ${onScreen}`);
  });

  test('it turns to warning, then breached, in words as well as colour', async () => {
    const clock = row(fast.id, 'first_response');
    await page.locator(`#clock-rows tr[data-request="${fast.id}"][data-metric="first_response"][data-state="warning"]`)
      .waitFor({ timeout: 6000 });
    assert.match(await clock.locator('.state-cell').textContent(), /Warning/);
    await page.locator(`#clock-rows tr[data-request="${fast.id}"][data-metric="first_response"][data-state="breached"]`)
      .waitFor({ timeout: 6000 });
    assert.match(await clock.locator('.state-cell').textContent(), /Breached/);
    assert.match(await clock.locator('.when').textContent(), /breached .* ago/);
    // Breached clocks sort first.
    assert.equal(await page.locator('#clock-rows tr').first().getAttribute('data-request'), String(fast.id));
    // The server recorded the breach too, and the page shows the breach's escalation.
    await page.locator(`#escalation-list li[data-escalation]`).first().waitFor({ timeout: 5000 });
    assert.match(await page.locator('#escalation-list').textContent(), /Level 1/);
  });

  test('pending on the customer stops the countdown', async () => {
    const waiting = await file('Globex', 'Webhooks arrive twice');
    await row(waiting.id, 'resolution').waitFor({ timeout: 1000 });
    await call('POST', `/v1/requests/${waiting.id}/events`, { type: 'pend', message: 'Which version do you run?' }, 'se');
    const paused = page.locator(`#clock-rows tr[data-request="${waiting.id}"][data-metric="resolution"][data-state="paused"]`);
    await paused.waitFor({ timeout: 1000 });
    assert.match(await paused.textContent(), /Paused/);
    const first = await remainingOf(waiting.id, 'resolution');
    await sleep(2100);
    assert.equal(await remainingOf(waiting.id, 'resolution'), first);
    // The first response was met by the pend: its row is gone.
    assert.equal(await row(waiting.id, 'first_response').count(), 0);
  });

  test('filtering by team shows only that team, and the filter is in the URL', async () => {
    await file('Initech', 'Export dashboards to PDF', { kind: 'feature_request', stage: 'production', tier: 'premium' });
    await file('Initech', 'How do I rotate the SSO certificate?', { kind: 'how_to', stage: 'production', tier: 'premium' });
    await page.locator('#clock-rows tr[data-team="product"]').first().waitFor({ timeout: 1000 });
    await page.locator('#clock-rows tr[data-team="ce"]').first().waitFor({ timeout: 1000 });
    await page.selectOption('#filter-team', 'se');
    const teams = await page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.team));
    assert.ok(teams.length > 0);
    assert.deepEqual([...new Set(teams)], ['se']);
    assert.match(page.url(), /[?&]team=se\b/);
    // Counts per team stay whole.
    assert.match(await page.locator('#team-counts [data-team="product"]').textContent(), /Product\s*1/);
  });

  test('a reload shows the same view from the URL, without asking for the token again', async () => {
    await page.click('#large-type');
    const before = await page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
    const url = page.url();
    assert.match(url, /large=1/);
    await page.reload();
    await page.locator('#live[data-state="live"]').waitFor();
    assert.equal(page.url(), url);
    assert.equal(await page.locator('#token-panel').isHidden(), true);
    assert.equal(await page.inputValue('#filter-team'), 'se');
    assert.equal(await page.locator('html.large').count(), 1);
    const after = await page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.key));
    assert.deepEqual(after, before);
    await page.click('#large-type');
  });

  test('keyboard: move between rows and open a request; its events, trace and clocks are there', async () => {
    await page.selectOption('#filter-team', '');
    await page.locator('body').focus();
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'filter-q');
    await page.locator('#clock-rows tr').first().locator('.open-request').focus();
    await page.keyboard.press('ArrowDown');
    const focused = await page.evaluate(() => document.activeElement.closest('tr')?.dataset.request);
    assert.equal(focused, await page.locator('#clock-rows tr').nth(1).getAttribute('data-request'));
    await page.keyboard.press('Enter');
    const dialog = page.locator('#detail');
    await dialog.waitFor({ state: 'visible' });
    await page.locator('#detail-body h3', { hasText: 'Events' }).waitFor();
    const text = await dialog.textContent();
    assert.match(text, /request\.created/);
    assert.match(text, /Routing/);
    assert.match(text, /Clocks/);
    assert.match(page.url(), /request=\d+/);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await page.waitForFunction(() => !location.search.includes('request='), null, { timeout: 2000 });
  });

  test('the stream resumes after a reconnect without missing an event', async () => {
    // Drop the page's stream, file while it is down, and let it reconnect with its last id:
    // the request arrives replayed from the stream, not from a new snapshot.
    let snapshots = 0;
    const count = (request) => { if (request.url().includes('/v1/dashboard/clocks')) snapshots += 1; };
    page.on('request', count);
    await page.evaluate(() => document.dispatchEvent(new Event('switchboard:drop-stream')));
    await page.locator('#live[data-state="reconnecting"]').waitFor({ timeout: 1000 });
    const missed = await file('Hooli', 'Rate limits hit during nightly sync');
    await row(missed.id, 'first_response').waitFor({ timeout: 5000 });
    await page.locator('#live[data-state="live"]').waitFor();
    page.off('request', count);
    assert.equal(snapshots, 0);
  });

  test('a screenshot of a realistic set of requests', async () => {
    const production = (tier) => ({ stage: 'production', tier });
    const filed = [];
    filed.push(await file('Stark Industries', 'SAML login loops back to the sign-in page', { ...production('enterprise'), priority: 'urgent' }));
    filed.push(await file('Wayne Enterprises', 'Code search times out on monorepo', { ...production('premium'), priority: 'high' }));
    filed.push(await file('Umbrella Corp', 'Batch changes stuck in "processing"', production('standard')));
    filed.push(await file('Soylent', 'Trial instance cannot reach GitHub Enterprise', { stage: 'trial' }));
    filed.push(await file('Cyberdyne', 'Indexer crashes after upgrade to 5.3', { ...production('enterprise'), priority: 'high' }));
    filed.push(await file('Tyrell Corp', 'Insights charts show no data', production('premium')));
    await file('Wonka Industries', 'Support for Bitbucket Data Center mirrors', { kind: 'feature_request', ...production('premium') });
    await file('Oscorp', 'Best way to scope tokens per team?', { kind: 'how_to', stage: 'trial' });
    await call('POST', `/v1/requests/${filed[2].id}/events`, { type: 'pend', message: 'Could you send the executor logs?' }, 'se');
    await call('POST', `/v1/requests/${filed[5].id}/events`, { type: 'respond', message: 'Looking at the ingestion job now.' }, 'se');
    await page.locator(`#clock-rows tr[data-request="${filed[5].id}"]`).first().waitFor({ timeout: 2000 });
    await page.waitForTimeout(3300);  // past the highlight of fresh rows
    await page.evaluate(() => document.activeElement?.blur());
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: true });
    assert.ok(existsSync(screenshotPath));
    console.log(`screenshot: ${screenshotPath}`);
  });
});
