// The dashboard's first screen with about fifty requests in every state: the clock table is on
// it at 1280×720 and 1920×1080 (each also in large type), the escalations strip is bounded and
// obeys the filters, no column is cut, no text says null, team cards count requests, and the
// countdown keeps the server's pace under --clock-speed. Screenshots of each viewport go to
// build/tests/browser/layout-<w>x<h>[-large].png.
//
//   node --test tests/browser/layout.test.mjs   (SWITCHBOARD_SERVER, SWITCHBOARD_SOURCE_DIR as for dashboard.test.mjs)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, eventually, launchBrowser, screenshotDir, startServer, tokenOf, writeBoardConfig } from './support.mjs';

const START = ['--clock-start', '2026-12-01T17:00:00Z'];  // a Tuesday, 09:00 in Los Angeles: support hours
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

let dir, server, api, browser;
const filed = [];

// 50 requests: 8 prospects whose first response breaches in 6 s (each opens an escalation),
// 10 that warn within 4 s, 10 on pre-sales support hours, 10 enterprise and premium (3 pended
// on the customer), 6 feature requests, 6 how-to questions; priorities in turn; SE takes 3.
async function fileFixture() {
  const specs = [];
  for (let i = 0; i < 8; i++) specs.push([`Prospect ${i}`, `Login fails after SSO change ${i}`, { stage: 'prospect' }]);
  for (let i = 0; i < 10; i++) specs.push([`Standard ${i}`, `Search is slow on large repositories ${i}`, { stage: 'production', tier: 'standard' }]);
  for (let i = 0; i < 10; i++) specs.push([`Trial ${i}`, `Cannot reach the code host from the trial ${i}`, { stage: 'trial' }]);
  for (let i = 0; i < 10; i++) specs.push([`Enterprise ${i}`, `Indexer restarts every hour ${i}`, { stage: 'production', tier: i % 2 ? 'premium' : 'enterprise' }]);
  for (let i = 0; i < 6; i++) specs.push([`Product ${i}`, `Export insights as CSV ${i}`, { kind: 'feature_request', stage: 'production', tier: 'premium' }]);
  for (let i = 0; i < 6; i++) specs.push([`Howto ${i}`, `How do I scope tokens per team ${i}?`, { kind: 'how_to', stage: 'trial' }]);
  const answers = await Promise.all(specs.map(([customer, title, options], i) =>
    api.file(customer, title, { ...options, priority: PRIORITIES[i % 4], body: `Body of request ${i}` })));
  filed.push(...answers);
  const enterprise = answers.slice(28, 38);
  for (const r of enterprise.slice(0, 3))
    await api.call('POST', `/v1/requests/${r.id}/events`, { type: 'pend', message: 'Could you send the logs?' }, 'se');
  for (const r of enterprise.slice(3, 6)) await api.call('POST', `/v1/requests/${r.id}/events`, { type: 'take' }, 'se');
  // Every prospect's first response breached and opened its escalation.
  await eventually(async () => (await api.call('GET', '/v1/escalations?state=open&limit=200', undefined, 'viewer')).escalations.length >= 8,
    20000, 'the 8 escalations');
}

async function openPage(viewport, query = '', role = 'se', url = server.url) {
  const context = await browser.newContext({ viewport });
  await context.addInitScript((token) => sessionStorage.setItem('switchboard.token', token), tokenOf(role));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${url}/${query}`);
  await page.locator('#live[data-state="live"]').waitFor();
  await page.locator('#clock-rows tr').first().waitFor();
  await page.waitForFunction(() => !/Loading/.test(document.getElementById('escalations-summary').textContent));
  return { context, page };
}

// Every text node's text (with where it is: the parent's tag and class), and the title and
// placeholder attributes.
const pageText = (page) => page.evaluate(() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent && parent.closest('[hidden], script, style')) continue;
    texts.push(`${node.textContent} (in ${parent ? `${parent.tagName.toLowerCase()}.${parent.className}` : '?'})`);
  }
  for (const e of document.querySelectorAll('[title], [placeholder]')) texts.push(e.title || '', e.placeholder || '');
  return texts;
});
const NOTHING = /\b(null|undefined|NaN)\b/;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-layout-'));
  writeBoardConfig(dir);
  server = await startServer(dir, START);
  api = client(server);
  browser = await launchBrowser();
  await fileFixture();
  mkdirSync(screenshotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the first screen', () => {
  // Large type is for wall screens: checked whole at 1920×1080; at 1280×720 (below) its first
  // clock row is on the first screen, though not every column fits.
  for (const [width, height, large] of [[1280, 720, false], [1920, 1080, false], [1920, 1080, true]]) {
    {
      const name = `layout-${width}x${height}${large ? '-large' : ''}`;
      test(`${width}×${height}${large ? ' in large type' : ''}: the clock table is on the first screen, whole`, async () => {
        const { context, page } = await openPage({ width, height }, large ? '?large=1' : '');
        try {
          assert.equal(await page.locator('html.large').count(), large ? 1 : 0);
          const path = join(screenshotDir, `${name}.png`);
          await page.screenshot({ path });
          // SWITCHBOARD_DOCS_SCREENSHOT=$PWD/docs/dashboard.png refreshes the README's picture.
          if (process.env.SWITCHBOARD_DOCS_SCREENSHOT && width === 1280 && !large) {
            await page.screenshot({ path: process.env.SWITCHBOARD_DOCS_SCREENSHOT });
          }
          // What the screenshot shows: the table's first rows and every heading inside it.
          const first = await page.locator('#clock-rows tr').first().boundingBox();
          assert.ok(first.y >= 0 && first.y + first.height <= height, `first clock row at y=${first.y}+${first.height} in ${height}`);
          // The strip: above the table, at most a quarter of the screen; or a column beside it.
          const strip = await page.locator('#escalations').boundingBox();
          const table = await page.locator('#clocks').boundingBox();
          if (strip.y + strip.height <= table.y) {
            assert.ok(strip.height <= height * 0.25, `escalations strip ${strip.height}px of ${height}`);
          } else {
            assert.ok(strip.x >= table.x + table.width, `the strip ${JSON.stringify(strip)} is neither above nor beside the table ${JSON.stringify(table)}`);
          }
          assert.equal(await page.locator('#escalation-list li').count(), 3, 'the 3 most urgent escalations');
          assert.match(await page.locator('#escalations-summary').textContent(), /^8 unresolved escalations/);
          const fit = await page.evaluate(() => {
            const table = document.getElementById('clocks');
            return { scroll: table.scrollWidth, room: table.parentElement.clientWidth };
          });
          assert.ok(fit.scroll <= fit.room, `table ${fit.scroll}px wide in ${fit.room}px: a column is cut`);
          for (const th of await page.locator('#clocks thead th').all()) {
            const box = await th.boundingBox();
            assert.ok(box && box.x >= 0 && box.x + box.width <= width && box.y + box.height <= height,
              `heading ${await th.textContent()} at ${JSON.stringify(box)}`);
          }
          const visibleRows = await page.locator('#clock-rows tr').evaluateAll((rows, h) =>
            rows.filter((r) => r.getBoundingClientRect().bottom <= h).length, height);
          assert.ok(visibleRows >= (height >= 1080 ? (large ? 6 : 10) : 4), `${visibleRows} clock rows on the first screen`);
          console.log(`screenshot: ${path} (${visibleRows} clock rows on the first screen)`);
        } finally {
          await context.close();
        }
      });
    }
  }

  test('1280×720 in large type: the first clock row is still on the first screen', async () => {
    const { context, page } = await openPage({ width: 1280, height: 720 }, '?large=1');
    try {
      assert.equal(await page.locator('html.large').count(), 1);
      await page.screenshot({ path: join(screenshotDir, 'layout-1280x720-large.png') });
      const first = await page.locator('#clock-rows tr').first().boundingBox();
      assert.ok(first.y >= 0 && first.y + first.height <= 720, `first clock row at y=${first.y}+${first.height} in 720`);
      const strip = await page.locator('#escalations').boundingBox();
      assert.ok(strip.height <= 720 * 0.25, `escalations strip ${strip.height}px of 720`);
    } finally {
      await context.close();
    }
  });

  test('?state=warning: the count is of the rows shown, and they are on screen', async () => {
    const { context, page } = await openPage({ width: 1440, height: 900 }, '?state=warning');
    try {
      const rows = page.locator('#clock-rows tr');
      const count = await rows.count();
      assert.ok(count >= 10, `${count} warning rows`);
      assert.deepEqual([...new Set(await rows.evaluateAll((rs) => rs.map((r) => r.dataset.state)))], ['warning']);
      assert.match(await page.locator('#shown-count').textContent(), new RegExp(`^${count} of \\d+ clocks shown`));
      const first = await rows.first().boundingBox();
      assert.ok(first.y + first.height <= 900, `first warning row at ${first.y}`);
      // The strip obeys the filter: no prospect's breached clock is in warning.
      assert.match(await page.locator('#escalations-summary').textContent(), /No unresolved escalations in this view/);
      await page.selectOption('#filter-state', 'breached');
      await page.waitForFunction(() => /^8 unresolved escalations in this view/.test(document.getElementById('escalations-summary').textContent));
    } finally {
      await context.close();
    }
  });

  test('team cards count requests by their worst clock, and unassigned ones', async () => {
    const { context, page } = await openPage({ width: 1440, height: 900 });
    try {
      // The recount, from the API: every active request once, by its worst open clock (none
      // without one: it is on its team's card all the same).
      const recount = async () => {
        const { requests } = await api.call('GET', '/v1/requests?limit=200', undefined, 'viewer');
        const teams = {};
        const rank = { breached: 3, warning: 2, running: 1, paused: 0 };
        for (const r of requests) {
          if (['resolved', 'closed'].includes(r.status)) continue;
          const open = (r.clocks || []).filter((c) => c.open !== false && !c.completed_at);
          let worst = open.length ? null : 'none';
          for (const c of open) {
            const state = c.breached || c.state === 'breached' ? 'breached' : c.state === 'running' && c.warned ? 'warning' : c.state;
            if (worst === null || rank[state] > rank[worst]) worst = state;
          }
          const t = teams[r.owner] ??= { total: 0, breached: 0, warning: 0, paused: 0, unassigned: 0 };
          t.total += 1;
          if (t[worst] !== undefined) t[worst] += 1;
          if (!r.assignee) t.unassigned += 1;
        }
        return teams;
      };
      const shown = () => page.locator('#team-counts .team-count').evaluateAll((cards) => Object.fromEntries(cards.map((c) => [c.dataset.team, {
        total: Number(c.dataset.total),
        ...Object.fromEntries([...c.querySelectorAll('[data-count]')].map((s) => [s.dataset.count, parseInt(s.textContent, 10)])),
      }])));
      const agree = async () => {
        const expected = await recount();
        const got = await shown();
        for (const [team, t] of Object.entries(expected)) {
          const g = got[team];
          if (!g || g.total !== t.total || g.breached !== t.breached || g.warning !== t.warning || g.paused !== t.paused || g.unassigned !== t.unassigned) {
            return false;
          }
        }
        return true;
      };
      await eventually(agree, 2000, 'the cards to equal the recount');
      const se = (await shown()).se;
      assert.equal(se.total, 38, 'SE holds the 38 troubleshooting requests');
      assert.equal(se.unassigned, 35);
      assert.equal(se.paused, 3);
      // A response through the API meets the request's only clock: the cards follow, and the
      // request, still open without a clock, stays on SE's card.
      const standard = filed[8];
      const warningBefore = (await shown()).se.warning;
      await api.call('POST', `/v1/requests/${standard.id}/events`, { type: 'respond', message: 'Looking now.' }, 'se');
      await eventually(async () => (await shown()).se.warning === warningBefore - 1 && agree(), 2000, 'the cards after a response');
      assert.equal((await shown()).se.total, 38);
    } finally {
      await context.close();
    }
  });

  test('no text says null, undefined or NaN: the page, five requests, the escalations expanded', async () => {
    const { context, page } = await openPage({ width: 1440, height: 900 }, '', 'head_of_cs');
    try {
      const bad = (texts) => texts.filter((t) => NOTHING.test(t));
      assert.deepEqual(bad(await pageText(page)), []);
      await page.click('#escalations-more');
      await page.waitForFunction(() => document.querySelectorAll('#escalation-list li').length === 8);
      assert.deepEqual(bad(await pageText(page)), []);
      for (const r of [filed[0], filed[8], filed[18], filed[28], filed[45]]) {
        await page.evaluate((id) => openDetail(id), r.id);
        await page.locator('#detail-body h3', { hasText: 'Events' }).waitFor();
        assert.deepEqual(bad(await pageText(page)), [], `request ${r.id}`);
        await page.keyboard.press('Escape');
        await page.locator('#detail').waitFor({ state: 'hidden' });
      }
    } finally {
      await context.close();
    }
  });
});

describe('search, sort and filters', () => {
  test('a word only in one request\'s body finds that request alone; #id finds by id; the URL keeps it', async () => {
    const r = await api.file('Trial Search', 'Cannot open the repository page', { stage: 'trial', body: 'The zeppelin mirror times out.' });
    const { context, page } = await openPage({ width: 1440, height: 900 });
    try {
      await page.locator(`#clock-rows tr[data-request="${r.id}"]`).first().waitFor();
      await page.fill('#filter-q', 'zeppelin');
      await page.waitForFunction((id) => {
        const rows = [...document.querySelectorAll('#clock-rows tr')];
        return rows.length > 0 && rows.every((row) => row.dataset.request === String(id));
      }, r.id, { timeout: 3000 });
      assert.match(page.url(), /[?&]q=zeppelin\b/);
      await page.fill('#filter-q', `#${filed[3].id}`);
      await page.waitForFunction((id) => {
        const rows = [...document.querySelectorAll('#clock-rows tr')];
        return rows.length > 0 && rows.every((row) => row.dataset.request === String(id));
      }, filed[3].id, { timeout: 3000 });
    } finally {
      await context.close();
    }
  });

  test('priority sorts urgent first, then reversed; customer sorts alphabetically; filters narrow', async () => {
    const { context, page } = await openPage({ width: 1440, height: 900 });
    try {
      const rank = { urgent: 3, high: 2, normal: 1, low: 0 };
      const priorities = () => page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.priority));
      await page.click('#clocks th[data-sort="priority"] button');
      assert.equal(await page.getAttribute('#clocks th[data-sort="priority"]', 'aria-sort'), 'descending');
      let seen = (await priorities()).map((p) => rank[p]);
      assert.deepEqual(seen, [...seen].sort((a, b) => b - a));
      assert.match(page.url(), /sort=priority%3Adesc|sort=priority:desc/);
      await page.click('#clocks th[data-sort="priority"] button');
      assert.equal(await page.getAttribute('#clocks th[data-sort="priority"]', 'aria-sort'), 'ascending');
      seen = (await priorities()).map((p) => rank[p]);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b));
      await page.click('#clocks th[data-sort="customer"] button');
      const customers = await page.locator('#clock-rows .customer-cell').allTextContents();
      assert.deepEqual(customers, [...customers].sort((a, b) => a.localeCompare(b)));
      // Filters: priority, and assignee none and me (se took three). Each is the server's: the
      // rows come with the snapshot it answers.
      const rowsOnly = (key, value) => page.waitForFunction(([k, v]) => {
        const rows = [...document.querySelectorAll('#clock-rows tr')];
        return rows.length > 0 && rows.every((r) => r.dataset[k] === v);
      }, [key, value], { timeout: 3000 });
      await page.selectOption('#filter-priority', 'urgent');
      await rowsOnly('priority', 'urgent');
      await page.selectOption('#filter-priority', '');
      await page.selectOption('#filter-assignee', 'me');
      await rowsOnly('assignee', 'se-person');
      assert.equal(new Set(await page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.request))).size, 3);
      await page.selectOption('#filter-assignee', 'none');
      await rowsOnly('assignee', '');
      assert.ok((await page.locator('#clock-rows .assignee-cell').allTextContents()).every((t) => t === '—'));
    } finally {
      await context.close();
    }
  });
});

describe('filters on the server, the live view, and ?request=', () => {
  test('the page sends its filters and search words to the server, from the URL and as they change', async () => {
    const snapshots = [];
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript((token) => sessionStorage.setItem('switchboard.token', token), tokenOf('se'));
    const page = await context.newPage();
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/v1/dashboard/clocks') snapshots.push(Object.fromEntries(url.searchParams));
    });
    try {
      await page.goto(`${server.url}/?team=se&kind=troubleshooting&priority=urgent`);
      await page.locator('#clock-rows tr').first().waitFor();
      assert.deepEqual(snapshots[0], { team: 'se', kind: 'troubleshooting', priority: 'urgent' });
      const shown = () => page.locator('#clock-rows tr').evaluateAll((rows) => rows.map((r) => [r.dataset.team, r.dataset.priority]));
      assert.ok((await shown()).every(([team, priority]) => team === 'se' && priority === 'urgent'));
      await page.selectOption('#filter-assignee', 'none');
      await page.selectOption('#filter-state', 'breached');
      await page.fill('#filter-q', 'Login fails');
      await eventually(() => snapshots.some((q) => q.q === 'Login fails'), 3000, 'a snapshot with the search words');
      assert.deepEqual(snapshots.at(-1), { q: 'Login fails', team: 'se', kind: 'troubleshooting', state: 'breached', priority: 'urgent', assignee: 'none' });
      await page.click('#filter-clear');
      await eventually(() => Object.keys(snapshots.at(-1)).length === 0, 3000, 'a snapshot without filters');
    } finally {
      await context.close();
    }
  });

  test('a filtered view takes in a request that starts matching and lets go of one that stops', async () => {
    const { context, page } = await openPage({ width: 1440, height: 900 }, '?assignee=none&kind=troubleshooting');
    try {
      const joining = await api.file('Joiner', 'Mirror sync stalls', { stage: 'production', tier: 'enterprise' });
      await page.locator(`#clock-rows tr[data-request="${joining.id}"]`).first().waitFor({ timeout: 3000 });
      await api.call('POST', `/v1/requests/${joining.id}/events`, { type: 'take' }, 'se');
      await page.locator(`#clock-rows tr[data-request="${joining.id}"]`).first().waitFor({ state: 'detached', timeout: 3000 });
      // A word only in the body: the server decides, and the new request joins the searched view.
      await page.fill('#filter-q', 'quokka');
      await page.locator('#no-clocks').waitFor({ state: 'visible', timeout: 3000 });
      const found = await api.file('Quiet Co', 'Uploads fail', { stage: 'production', tier: 'enterprise', body: 'The quokka proxy drops them.' });
      await page.locator(`#clock-rows tr[data-request="${found.id}"]`).first().waitFor({ timeout: 5000 });
      const ids = await page.locator('#clock-rows tr').evaluateAll((rows) => [...new Set(rows.map((r) => r.dataset.request))]);
      assert.deepEqual(ids, [String(found.id)]);
    } finally {
      await context.close();
    }
  });

  test('?request=ID opens that request (the Slack button\'s link)', async () => {
    const r = filed[12];
    const { context, page } = await openPage({ width: 1280, height: 720 }, `dashboard?request=${r.id}`);
    try {
      const dialog = page.locator('#detail');
      await dialog.waitFor({ state: 'visible' });
      await page.locator('#detail-body h3', { hasText: 'Events' }).waitFor();
      const { title } = await api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer');
      assert.equal(await page.locator('#detail-title').textContent(), `#${r.id} ${title}`);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
      assert.doesNotMatch(page.url(), /request=/);
    } finally {
      await context.close();
    }
  });
});

describe('under --clock-speed 60', () => {
  let fast;
  before(async () => {
    const speedDir = mkdtempSync(join(tmpdir(), 'switchboard-speed-'));
    writeBoardConfig(speedDir);
    fast = { dir: speedDir, server: await startServer(speedDir, [...START, '--clock-speed', '60']) };
    fast.api = client(fast.server);
  });
  after(() => {
    fast?.server.child.kill('SIGTERM');
    if (fast?.dir) rmSync(fast.dir, { recursive: true, force: true });
  });

  test('the countdown runs at the server\'s pace and agrees with the API', async () => {
    const r = await fast.api.file('Speedy', 'Clock runs sixty times faster', { stage: 'production', tier: 'enterprise' });
    const { context, page } = await openPage({ width: 1440, height: 900 }, '', 'viewer', fast.server.url);
    try {
      const cell = page.locator(`#clock-rows tr[data-request="${r.id}"][data-metric="resolution"] .countdown`);
      const remaining = async () => Number(await cell.getAttribute('data-remaining'));
      const first = await remaining();
      // At speed 60, two real seconds are two business minutes on a 24x7 calendar; at real
      // speed the page would take two minutes to count them down.
      await eventually(async () => (await remaining()) <= first - 120, 10000, 'the countdown to fall by 120 s');
      const [fromApi, onScreen] = await Promise.all([
        fast.api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer').then((x) => x.clocks.find((c) => c.metric === 'resolution').remaining_seconds),
        remaining(),
      ]);
      assert.ok(Math.abs(fromApi - onScreen) <= 60, `API ${fromApi}, page ${onScreen}`);
    } finally {
      await context.close();
    }
  });
});
