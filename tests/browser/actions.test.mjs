// Acting from the dashboard, each viewer with their own token: take, assign, respond, pend and
// resolve a request; acknowledge and resolve an escalation. Every refusal shows the server's
// own message (compared with what the API answers for the same action) and changes nothing.
//
//   node --test tests/browser/actions.test.mjs   (SWITCHBOARD_SERVER, SWITCHBOARD_SOURCE_DIR as for dashboard.test.mjs)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client, eventually, launchBrowser, startServer, tokenOf, writeBoardConfig } from './support.mjs';

let dir, server, api, browser;
const pages = [];

async function openPage(role, query = '') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript((token) => sessionStorage.setItem('switchboard.token', token), tokenOf(role));
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(`${server.url}/${query}`);
  await page.locator('#live[data-state="live"]').waitFor();
  pages.push(context);
  return page;
}

const row = (page, id, metric) => page.locator(`#clock-rows tr[data-request="${id}"]${metric ? `[data-metric="${metric}"]` : ''}`);
const events = async (id) => (await api.call('GET', `/v1/requests/${id}/events?limit=200`, undefined, 'viewer')).events;

async function openDialog(page, id) {
  await page.evaluate((request) => openDetail(request), id);
  await page.locator('#detail-body h3', { hasText: 'Events' }).waitFor();
}

async function closeDialog(page) {
  await page.keyboard.press('Escape');
  await page.locator('#detail').waitFor({ state: 'hidden' });
}

// An SE request on pre-sales support hours (first response in 1 h), and an enterprise one
// (first response 4 h, resolution 24 h paused while pending on the customer).
const trial = (title) => api.file('Trial Co', title, { stage: 'trial' });
const enterprise = (title) => api.file('Big Co', title, { stage: 'production', tier: 'enterprise' });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-actions-'));
  writeBoardConfig(dir, { people: true });
  server = await startServer(dir, ['--clock-start', '2026-12-01T17:00:00Z']);
  api = client(server);
  browser = await launchBrowser();
});

after(async () => {
  for (const context of pages) await context.close().catch(() => {});
  await browser?.close();
  server?.child.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('actions from the page', () => {
  let se;
  before(async () => { se = await openPage('se'); });

  test('se takes a request from its row: the assignee is se', async () => {
    const r = await trial('Take me from the table');
    await row(se, r.id, 'first_response').waitFor();
    await row(se, r.id).locator('button[data-action="take"]').click();
    await se.locator(`#clock-rows tr[data-request="${r.id}"][data-assignee="se-person"]`).waitFor({ timeout: 2000 });
    assert.match(await row(se, r.id).locator('.assignee-cell').textContent(), /Sam Engineer/);
    assert.equal((await api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer')).assignee, 'se-person');
    // Taken: no Take button on its own row any more.
    assert.equal(await row(se, r.id).locator('button[data-action="take"]').count(), 0);
  });

  test('se responds from the dialog: the first response is met, recorded as se', async () => {
    const r = await trial('Respond from the dialog');
    await row(se, r.id, 'first_response').waitFor();
    await openDialog(se, r.id);
    await se.fill('#action-message', 'Looking at it now.');
    await se.click('#detail-body button[data-action="respond"]');
    await row(se, r.id, 'first_response').waitFor({ state: 'detached', timeout: 2000 });
    const responded = (await events(r.id)).find((e) => e.type === 'request.responded');
    assert.ok(responded, 'request.responded recorded');
    assert.equal(responded.actor, 'se:se-person');
    await closeDialog(se);
  });

  test('se pends on the customer: the resolution clock is paused', async () => {
    const r = await enterprise('Pend from the dialog');
    await row(se, r.id, 'resolution').waitFor();
    await openDialog(se, r.id);
    await se.fill('#action-message', 'Which version do you run?');
    await se.click('#detail-body button[data-action="pend"]');
    await se.locator(`#clock-rows tr[data-request="${r.id}"][data-metric="resolution"][data-state="paused"]`).waitFor({ timeout: 2000 });
    assert.equal((await api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer')).status, 'pending_customer');
    await closeDialog(se);
  });

  test('se resolves: the request\'s rows leave the table', async () => {
    const r = await enterprise('Resolve from the dialog');
    await row(se, r.id, 'resolution').waitFor();
    await openDialog(se, r.id);
    await se.fill('#action-message', 'Fixed in 5.3.1.');
    await se.click('#detail-body button[data-action="resolve"]');
    await row(se, r.id).first().waitFor({ state: 'detached', timeout: 2000 });
    assert.equal((await api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer')).status, 'resolved');
    await closeDialog(se);
  });

  test('resolving what another tab already resolved shows the server\'s 409, word for word', async () => {
    const r = await enterprise('Resolved twice');
    await row(se, r.id, 'resolution').waitFor();
    await openDialog(se, r.id);
    await api.call('POST', `/v1/requests/${r.id}/events`, { type: 'resolve', message: 'done elsewhere' }, 'se');
    // The open dialog follows the change (still offering Resolve, as a stale one would).
    await se.locator('#detail-body dd', { hasText: /^resolved$/ }).waitFor({ timeout: 2000 });
    const before = (await events(r.id)).length;
    await se.click('#detail-body button[data-action="resolve"]');
    const again = await api.answer('POST', `/v1/requests/${r.id}/events`, { type: 'resolve' }, 'se');
    assert.equal(again.status, 409);
    await se.locator('#detail-alert:not([hidden])').waitFor({ timeout: 2000 });
    assert.equal(await se.locator('#detail-alert').textContent(), again.body.error.message);
    assert.equal((await events(r.id)).length, before, 'nothing recorded');
    await closeDialog(se);
  });

  test('ce, refused on an SE request, sees the server\'s 403 reason and nothing is recorded', async () => {
    const ce = await openPage('ce');
    const r = await trial('CE may not respond here');
    await row(ce, r.id, 'first_response').waitFor();
    const before = (await events(r.id)).length;
    await openDialog(ce, r.id);
    await ce.fill('#action-message', 'Answering for SE');
    await ce.click('#detail-body button[data-action="respond"]');
    await ce.locator('#detail-alert:not([hidden])').waitFor({ timeout: 2000 });
    const refused = await api.answer('POST', `/v1/requests/${r.id}/events`, { type: 'respond', message: 'x' }, 'ce');
    assert.equal(refused.status, 403);
    assert.equal(await ce.locator('#detail-alert').textContent(), refused.body.error.message);
    assert.match(refused.body.error.message, /se owns this request/);
    assert.equal((await events(r.id)).length, before);
  });

  test('assign: a lead of SE assigns; an SE who does not lead is refused with the reason', async () => {
    const r = await trial('Assign me');
    const lead = await openPage('se-lead');
    await row(lead, r.id, 'first_response').waitFor();
    // Refused first: se does not lead SE.
    await openDialog(se, r.id);
    await se.selectOption('#assign-to', 'se-person');
    await se.fill('#assign-reason', 'knows this customer');
    await se.click('#detail-body button[data-action="assign"]');
    await se.locator('#detail-alert:not([hidden])').waitFor({ timeout: 2000 });
    assert.match(await se.locator('#detail-alert').textContent(), /only a lead of the se team/);
    await closeDialog(se);
    await openDialog(lead, r.id);
    await lead.selectOption('#assign-to', 'se-person');
    await lead.fill('#assign-reason', 'knows this customer');
    await lead.click('#detail-body button[data-action="assign"]');
    await lead.locator(`#clock-rows tr[data-request="${r.id}"][data-assignee="se-person"]`).waitFor({ timeout: 2000 });
    assert.equal((await api.call('GET', `/v1/requests/${r.id}`, undefined, 'viewer')).assignee, 'se-person');
    await closeDialog(lead);
    // Taking someone else's request: the 409 names the holder.
    await row(lead, r.id).locator('button[data-action="take"]').click();
    const alert = row(lead, r.id).locator('.alert:not([hidden])');
    await alert.waitFor({ timeout: 2000 });
    assert.match(await alert.textContent(), /already assigned to se-person/);
  });

  test('head_of_cs acknowledges from the strip; a stale page is told it already was', async () => {
    const r = await api.file('Prospect Co', 'Breaches in six seconds', { stage: 'prospect' });
    const head = await openPage('head_of_cs');
    const stale = await openPage('head_of_cs');
    const item = (page) => page.locator(`#escalation-list li[data-escalation^="${r.id}-"]`);
    for (const page of [head, stale]) await item(page).waitFor({ timeout: 15000 });
    // The stale page reads its strip no more (as if the network were slow): it keeps offering
    // Acknowledge after the other page acknowledged.
    await stale.route('**/v1/dashboard/escalations*', (route) => route.abort());
    await item(head).locator('button[data-action="acknowledge_escalation"]').click();
    await head.locator(`#escalation-list li[data-escalation^="${r.id}-"][data-state="acknowledged"]`).waitFor({ timeout: 2000 });
    const { escalations } = await api.call('GET', '/v1/escalations?state=acknowledged', undefined, 'viewer');
    assert.ok(escalations.some((e) => e.request_id === r.id), 'the API agrees');
    await item(stale).locator('button[data-action="acknowledge_escalation"]').click();
    const alert = item(stale).locator('.alert:not([hidden])');
    await alert.waitFor({ timeout: 2000 });
    assert.equal(await alert.textContent(), 'this escalation is already acknowledged');
    // And resolve it from the strip.
    await item(head).locator('button[data-action="resolve_escalation"]').click();
    await item(head).waitFor({ state: 'detached', timeout: 2000 });
    const resolved = await api.call('GET', '/v1/escalations?state=resolved', undefined, 'viewer');
    assert.ok(resolved.escalations.some((e) => e.request_id === r.id));
  });

  test('a viewer is shown no actions, and a forced call shows the server\'s 403 reason', async () => {
    const viewer = await openPage('viewer');
    const r = await trial('Viewers only look');
    await row(viewer, r.id, 'first_response').waitFor();
    assert.equal(await viewer.locator('#clock-rows button.act').count(), 0);
    await openDialog(viewer, r.id);
    assert.equal(await viewer.locator('#detail-body button.act').count(), 0);
    const shown = await viewer.evaluate(async (id) => {
      const alert = document.createElement('p');
      document.body.append(alert);
      await act(`/v1/requests/${id}/events`, { type: 'respond', message: 'x' }, alert);
      return alert.textContent;
    }, r.id);
    const refused = await api.answer('POST', `/v1/requests/${r.id}/events`, { type: 'respond', message: 'x' }, 'viewer');
    assert.equal(refused.status, 403);
    assert.equal(shown, refused.body.error.message);
  });
});
