// Browser tests of the SLA reports page (/dashboard/reports.html): the real server on a simulated
// clock (600 times real time), Debian's Chromium driven by playwright-core, requests filed and
// answered through the API so that clocks are met and breached; the page's two uPlot charts are
// drawn, the tables beneath them read the endpoint's numbers, and the page loads nothing from
// anywhere but the server (the vendored uPlot: no CDN).
//
//   node --test tests/browser/reports.test.mjs
//
// Environment (CTest sets the first three): SWITCHBOARD_SERVER, SWITCHBOARD_SOURCE_DIR,
// SWITCHBOARD_SCREENSHOT (the page at 1280x720); SWITCHBOARD_DOCS_SCREENSHOT, when set, wins over
// it (to refresh docs/reports.png). CHROMIUM overrides /usr/bin/chromium.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const sourceDir = process.env.SWITCHBOARD_SOURCE_DIR || resolve(here, '../..');
const serverPath = process.env.SWITCHBOARD_SERVER || join(sourceDir, 'build/src/switchboard');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const screenshotPath = process.env.SWITCHBOARD_DOCS_SCREENSHOT || process.env.SWITCHBOARD_SCREENSHOT ||
  join(sourceDir, 'build/tests/browser/reports.png');

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (error) {
  console.error('playwright-core is not installed in tests/browser/node_modules: run tools/browser-setup');
  throw error;
}
for (const [what, path] of [['Chromium', chromiumPath], ['the switchboard server', serverPath]]) {
  if (!existsSync(path)) throw new Error(`${what} is missing at ${path} (tools/browser-setup installs Chromium; build the server first)`);
}

const ROLES = ['viewer', 'ce', 'se'];
const tokenOf = (role) => `browser-test-token-${role}`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// Troubleshooting gets a first response within 1 hour and a resolution within 8 on an always-open
// calendar, how-to questions a first response within 24 hours. No ladder.
function writeConfig(dir) {
  writeFileSync(join(dir, 'switchboard.toml'), `
[server]
rules = ${JSON.stringify(join(sourceDir, 'rules/routing.toml'))}

[calendars.24x7]
zone = "UTC"
shifts = [{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open = "00:00", close = "24:00" }]

[[sla.policy]]
name = "support"
kinds = ["troubleshooting"]
calendar = "24x7"
metrics = [{ metric = "first_response", target = "1h" }, { metric = "resolution", target = "8h" }]

[[sla.policy]]
name = "questions"
kinds = ["how_to"]
calendar = "24x7"
metrics = [{ metric = "first_response", target = "24h" }]
`);
  writeFileSync(join(dir, 'tokens.toml'), ROLES.map((role) =>
    `[[token]]\nperson = "${role}-person"\nrole = "${role}"\nsha256 = "${sha256(tokenOf(role))}"\n`).join('\n'));
}

function startServer(dir, clockStart, clockSpeed) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(serverPath, ['--config', join(dir, 'switchboard.toml'), '--db', join(dir, 'switchboard.db'),
      '--listen', '127.0.0.1:0', '--tokens', join(dir, 'tokens.toml'),
      '--clock-start', clockStart, '--clock-speed', clockSpeed], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${err}`)), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[^\s]+)/);
      if (match) { clearTimeout(timer); resolvePromise({ child, url: match[1] }); }
    });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}: ${err}`)); });
  });
}

function stopServer(child) {
  return new Promise((resolvePromise) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolvePromise());
    child.kill('SIGTERM');
  });
}

let dir, server, browser, context, page;
const outside = [];     // requests the page tried to make to anywhere but the server
const violations = [];  // CSP violations the page reported
const missing = [];     // answers of 400 or more to anything but the API (an icon, a script, a style sheet)

async function call(method, path, body, role = 'ce') {
  const res = await fetch(server.url + path, {
    method,
    headers: { Authorization: `Bearer ${tokenOf(role)}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return JSON.parse(text);
}

const file = (customer, title, kind = 'troubleshooting') => call('POST', '/v1/requests', {
  kind, title, body: 'Details', priority: 'normal', source: 'api',
  customer: { id: customer.toLowerCase().replace(/[^a-z]+/g, '-'), name: customer, stage: 'prospect' },
});
const respond = (id, role = 'se') => call('POST', `/v1/requests/${id}/events`, { type: 'respond', message: 'On it' }, role);

async function until(condition, what, within = 30000) {
  const deadline = Date.now() + within;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const RANGE = 'from=2026-11-16&to=2026-12-07&tz=UTC';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-reports-'));
  writeConfig(dir);
  // Monday 23 November 2026 10:00 UTC, 600 times real time (1 s is 10 minutes) while seeding.
  server = await startServer(dir, '2026-11-23T10:00:00Z', '600');
  // Seed: SE answers two troubleshooting requests at once and lets one breach before answering;
  // CE answers one how-to at once and leaves one open.
  const [t1, t2, t3] = [await file('Acme Corp', 'Search is slow'), await file('Globex', 'Login loops'),
    await file('Initech', 'Exports fail')];
  const [h1] = [await file('Acme Corp', 'How do I rotate keys?', 'how_to'), await file('Hooli', 'Where are logs?', 'how_to')];
  await respond(t1.id);
  await respond(t2.id);
  await respond(h1.id, 'ce');
  await until(async () => (await call('GET', `/v1/requests/${t3.id}`, undefined, 'viewer')).clocks
    .some((c) => c.metric === 'first_response' && c.breached), 'the breach');
  await respond(t3.id);
  // The same database at real speed from 13:00, so that nothing changes while the page is read:
  // the open clocks are due hours later.
  await stopServer(server.child);
  server = await startServer(dir, '2026-11-23T13:00:00Z', '1');

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
  // Offline but for the server: anything else is aborted, and counted.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(server.url) || url.startsWith('blob:') || url.startsWith('data:')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.__violations = window.__violations || []).push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  page.on('console', (message) => { if (/Content Security Policy/i.test(message.text())) violations.push(message.text()); });
  page.on('response', (response) => {
    if (response.status() >= 400 && !new URL(response.url()).pathname.startsWith('/v1/')) missing.push(`${response.status()} ${response.url()}`);
  });
});

after(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// The table's cells, row by row, as text.
const cells = (id) => page.locator(`#${id} tbody tr`).evaluateAll((rows) =>
  rows.map((r) => [...r.cells].map((c) => c.textContent)));
const footer = (id) => page.locator(`#${id} tfoot tr`).evaluateAll((rows) =>
  rows.map((r) => [...r.cells].map((c) => c.textContent)));

describe('reports page', () => {
  test('asks for the token, then draws both charts', async () => {
    await page.goto(`${server.url}/dashboard/reports.html?${RANGE}`);
    await page.locator('#token-panel').waitFor({ state: 'visible' });
    await page.fill('#token-input', tokenOf('viewer'));
    await page.press('#token-input', 'Enter');
    await page.waitForFunction(() => document.body.dataset.loaded);
    assert.equal(await page.locator('#breach-chart canvas').count(), 1);
    assert.equal(await page.locator('#response-chart canvas').count(), 1);
  });

  test('both canvases have bars drawn in their series colours', async () => {
    // Pixels of the breach-rate orange (213, 94, 0) and of the median blue (0, 114, 178): not the
    // grey axes and grid.
    const counts = await page.evaluate(() => {
      const count = (selector, match) => {
        const canvas = document.querySelector(selector);
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let n = 0;
        for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 0 && match(data[i], data[i + 1], data[i + 2])) n++;
        return n;
      };
      return {
        breach: count('#breach-chart canvas', (r, g, b) => r - b > 80 && r > 150),
        median: count('#response-chart canvas', (r, g, b) => b - r > 80 && b > 120),
      };
    });
    assert.ok(counts.breach > 50, `breach chart: ${counts.breach} bar pixels`);
    assert.ok(counts.median > 50, `response chart: ${counts.median} bar pixels`);
  });

  test("the tables beneath the charts read the endpoint's numbers, with — for none and never null", async () => {
    const weeks = await call('GET', `/v1/reports/sla?${RANGE}&group_by=week`, undefined, 'viewer');
    const teams = await call('GET', `/v1/reports/sla?${RANGE}&group_by=team`, undefined, 'viewer');
    const weekRows = await cells('breach-table');
    assert.equal(weekRows.length, weeks.groups.length);
    assert.equal(weekRows.length, 1);
    const w = weeks.groups[0];
    assert.deepEqual(weekRows[0].slice(0, 6), [w.key, w.week_start.slice(0, 10), String(w.clocks_started), String(w.met),
      String(w.breached), String(w.open)]);
    assert.equal(w.key, '2026-W48');
    // 8 clocks: 3 troubleshooting requests with 2 each, 2 how-tos with 1; 1 breached of 4 met or
    // breached first responses (the resolutions and one how-to are still open).
    assert.deepEqual([w.clocks_started, w.met, w.breached, w.open], [8, 3, 1, 4]);
    assert.equal(weekRows[0][6], '25.0 %');
    assert.equal(weekRows[0][6], `${(100 * w.breached / (w.met + w.breached)).toFixed(1)} %`);
    assert.equal((await footer('breach-table'))[0][2], String(weeks.total.clocks_started));

    const teamRows = await cells('response-table');
    assert.deepEqual(teamRows.map((r) => r[0]), teams.groups.map((g) => g.key.toUpperCase()));
    const se = teams.groups.find((g) => g.key === 'se');
    const seRow = teamRows.find((r) => r[0] === 'SE');
    assert.equal(seRow[1], String(se.first_response.count));
    assert.equal(se.first_response.count, 3);
    assert.equal(seRow[4], `${se.percent_met.toFixed(1)} %`);
    assert.equal(seRow[4], '66.7 %');
    const ce = teams.groups.find((g) => g.key === 'ce');
    assert.equal(teamRows.find((r) => r[0] === 'CE')[1], String(ce.first_response.count));
    // The text of the whole page: no null, undefined or NaN anywhere.
    const text = await page.evaluate(() => document.body.innerText);
    assert.doesNotMatch(text, /\bnull\b|\bundefined\b|\bNaN\b/);
    assert.match(text, /—/);  // the paused column: no clock was paused
  });

  test('changing the range reloads both reports', async () => {
    let reloads = 0;
    const count = (request) => { if (request.url().includes('/v1/reports/sla')) reloads += 1; };
    page.on('request', count);
    await page.fill('#from', '2026-11-30');
    await page.click('#range button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#breach-table tbody tr').length === 0);
    page.off('request', count);
    assert.equal(reloads, 2);
    assert.match(page.url(), /from=2026-11-30/);
    await page.fill('#from', '2026-11-16');
    await page.click('#range button[type="submit"]');
    await page.waitForFunction(() => document.querySelectorAll('#breach-table tbody tr').length === 1);
  });

  test('the weekly chart and table show the empty weeks between reported ones, across a year end', async () => {
    // The endpoint leaves out weeks in which no clock started; the page must not put 2026-W46
    // beside 2026-W49. An answer of the endpoint's shape with such gaps (2026 has 53 ISO weeks).
    const row = (key, weekStart, breached) => ({ key, week_start: weekStart, clocks_started: 2, met: 2 - breached,
      breached, open: 0, percent_met: 100 * (2 - breached) / 2,
      first_response: { count: 2, median_seconds: 60, p90_seconds: 60 },
      resolution: { count: 0, median_seconds: null, p90_seconds: null },
      paused: { count: 0, total_seconds: 0, median_seconds: null } });
    const groups = [row('2026-W46', '2026-11-09T00:00:00Z', 1), row('2026-W49', '2026-11-30T00:00:00Z', 0),
      row('2026-W52', '2026-12-21T00:00:00Z', 1), row('2027-W02', '2027-01-11T00:00:00Z', 0)];
    const gappy = { from: '2026-11-09T00:00:00Z', to: '2027-01-18T00:00:00Z', group_by: 'week', tz: 'UTC', groups,
      total: { ...row('total', null, 2), clocks_started: 8, met: 6 } };
    const weekly = (url) => url.pathname === '/v1/reports/sla' && url.searchParams.get('group_by') === 'week';
    await page.route(weekly, (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(gappy) }));
    try {
      await page.fill('#from', '2026-11-09');
      await page.fill('#to', '2027-01-18');
      await page.click('#range button[type="submit"]');
      await page.waitForFunction(() => document.querySelectorAll('#breach-table tbody tr').length > 1);
      const rows = await cells('breach-table');
      assert.deepEqual(rows.map((r) => r[0]), ['2026-W46', '2026-W47', '2026-W48', '2026-W49', '2026-W50', '2026-W51',
        '2026-W52', '2026-W53', '2027-W01', '2027-W02']);
      // An empty week: its Monday, zeros, no breach rate.
      assert.deepEqual(rows[1], ['2026-W47', '2026-11-16', '0', '0', '0', '0', '—']);
      assert.deepEqual(rows[7], ['2026-W53', '2026-12-28', '0', '0', '0', '0', '—']);
      assert.deepEqual(rows[0], ['2026-W46', '2026-11-09', '2', '1', '1', '0', '50.0 %']);
      // The chart (uPlot draws on a canvas; its data is the page's, `state.charts`) has a
      // category for every week, the empty ones without a bar.
      const drawn = await page.evaluate(() => ({ x: state.charts[0].data[0].length, rates: state.charts[0].data[1] }));
      assert.equal(drawn.x, 10);
      assert.deepEqual(drawn.rates, [50, null, null, 0, null, null, 50, null, null, 0]);
    } finally {
      await page.unroute(weekly);
      await page.fill('#from', '2026-11-16');
      await page.fill('#to', '2026-12-07');
      await page.click('#range button[type="submit"]');
      await page.waitForFunction(() => document.querySelectorAll('#breach-table tbody tr').length === 1);
    }
  });

  test('the CSV link is the endpoint, and answers text/csv', async () => {
    const href = await page.getAttribute('#csv', 'href');
    assert.match(href, /^\/v1\/reports\/sla\?.*format=csv/);
    const res = await fetch(server.url + href, { headers: { Authorization: `Bearer ${tokenOf('viewer')}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^text\/csv/);
    assert.match(await res.text(), /^group,name,week_start,clocks_started/);
  });

  test('nothing came from outside the server, and the CSP held', async () => {
    assert.deepEqual(outside, []);
    assert.deepEqual(violations, []);
    assert.deepEqual(await page.evaluate(() => window.__violations || []), []);
    // No console error for a missing file: the icon the page links, and /favicon.ico, are there.
    assert.deepEqual(missing, []);
    const icon = await fetch(`${server.url}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get('content-type'), 'image/svg+xml');
    const res = await fetch(`${server.url}/dashboard/reports.html`);
    assert.match(res.headers.get('content-security-policy'), /script-src 'self'/);
    assert.match(res.headers.get('content-security-policy'), /style-src 'self'/);
  });

  test('a screenshot at 1280x720', async () => {
    mkdirSync(dirname(screenshotPath), { recursive: true });
    await page.screenshot({ path: screenshotPath, fullPage: false });
    assert.ok(existsSync(screenshotPath));
    console.log(`screenshot: ${screenshotPath}`);
  });
});
