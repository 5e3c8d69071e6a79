// The dashboard's logic without a browser: app.js runs in a Node vm context whose DOM is an inert
// stub, and its functions are called directly. Needs only node (no Chromium): what a clock shows
// (a breached clock paused on the customer still says breached), show(), server time at the
// clock speed, sorting, the filters, the snapshot's and the escalations strip's queries, how a
// change keeps a filtered view right, and the buttons per role.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const source = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '../../src/http/dashboard/assets/app.js'), 'utf8');

// Anything the page touches: every property is another stub, every call returns one; not a
// thenable, so nothing awaits it forever by accident.
function inert() {
  const target = function stub() {};
  return new Proxy(target, {
    get: (t, key) => (key === 'then' ? undefined : key === Symbol.toPrimitive ? () => '' : inert()),
    set: () => true,
    apply: () => inert(),
    construct: () => inert(),
  });
}

function load(fetchImpl) {
  const context = vm.createContext({
    document: inert(),
    location: { search: '', pathname: '/' },
    history: inert(),
    sessionStorage: { getItem: () => null, setItem() {}, removeItem() {} },
    setInterval: () => 0,
    setTimeout: () => 0,
    clearTimeout() {},
    fetch: fetchImpl || (async () => ({ ok: false, status: 503, json: async () => ({}) })),
    URLSearchParams,
    Intl,
    CSS: { escape: (s) => s },
    console,
  });
  vm.runInContext(source, context, { filename: 'app.js' });
  return context;
}

test('a clock paused after it breached shows as breached, paused', () => {
  const page = load();
  const request = { id: 1, status: 'pending_customer', now0: 1000 };
  const clock = { metric: 'resolution', state: 'paused', breached: true, remaining_seconds: -600, calendar: 'support', deadline: null };
  const shown = vm.runInContext('(r, c) => clockAt(r, c, 2000)', page)(request, clock);
  assert.equal(shown.state, 'paused');
  assert.equal(shown.breached, true);
  assert.equal(shown.when, 'breached, paused: waiting on the customer');
  assert.equal(shown.remaining, -600, 'a paused clock does not count');
  assert.equal(vm.runInContext('BREACHED_PAUSED.label', page), 'Breached, paused');
  // The state filter "breached" keeps it.
  const matched = vm.runInContext(`(row) => { app.filters.state = 'breached'; return matches(row); }`, page)(
    { request: { owner: 'se', customer: { id: 'acme' }, kind: 'troubleshooting' }, ...shown });
  assert.equal(matched, true);
});

test('a paused clock that never breached is only paused', () => {
  const page = load();
  const shown = vm.runInContext('(r, c) => clockAt(r, c, 2000)', page)(
    { id: 2, status: 'pending_customer', now0: 1000 },
    { metric: 'resolution', state: 'paused', breached: false, remaining_seconds: 600, calendar: 'support' });
  assert.equal(shown.state, 'paused');
  assert.equal(shown.breached, false);
  assert.equal(shown.when, 'paused: waiting on the customer');
});

test('show() gives a dash for nothing, never null or undefined', () => {
  const page = load();
  const show = vm.runInContext('show', page);
  assert.equal(show(null), '—');
  assert.equal(show(undefined), '—');
  assert.equal(show(''), '—');
  assert.equal(show(NaN), '—');
  assert.equal(show(0), '0');
  assert.equal(show('Acme'), 'Acme');
});

test('server time runs at the snapshot\'s clock_speed from its anchor', () => {
  const page = load();
  const at = vm.runInContext(`(speed, now0, local0, later) => {
    app.speed = speed; app.anchor = null;
    observeServerTime(now0, local0);
    return serverNow(later);
  }`, page);
  assert.equal(at(60, 1000, 5000, 7000), 1000 + 120, '2 s at speed 60 is 120 s');
  assert.equal(at(1, 1000, 5000, 7000), 1002);
  // A later observation that is behind the estimate (the server floors `now`) keeps the anchor;
  // one ahead of it moves the anchor.
  const kept = vm.runInContext(`(() => {
    app.speed = 60; app.anchor = null;
    observeServerTime(1000, 0);
    observeServerTime(1100, 2000);  // estimate 1120: an older truth
    const a = serverNow(2000);
    observeServerTime(1200, 3000);  // estimate 1180: ahead, re-anchor
    return [a, serverNow(3000), serverNow(4000)];
  })()`, page);
  assert.deepEqual(Array.from(kept), [1120, 1200, 1260]);
});

function row(id, { priority = 'normal', customer = 'acme', assignee = '', deadline = 100, remaining = 10, state = 'running', title = 't' } = {}) {
  return {
    request: { id, title, priority, owner: 'se', kind: 'troubleshooting', assignee, customer: { id: customer, name: customer } },
    clock: { metric: 'first_response', deadline }, remaining, state, breached: state === 'breached',
  };
}

test('sorting: by priority (urgent first, then reversed), by customer, ties by urgency', () => {
  const page = load();
  const sorted = vm.runInContext('(rows, sort) => rows.slice().sort(compareRows(sort)).map((r) => r.request.id)', page);
  const rows = [
    row(1, { priority: 'low', customer: 'zeta', deadline: 10 }),
    row(2, { priority: 'urgent', customer: 'beta', deadline: 30 }),
    row(3, { priority: 'urgent', customer: 'alpha', deadline: 20 }),
    row(4, { priority: 'high', customer: 'Gamma', deadline: 40 }),
  ];
  assert.deepEqual(Array.from(sorted(rows, null)), [1, 3, 2, 4], 'urgency: by deadline');
  assert.deepEqual(Array.from(sorted(rows, { key: 'priority', dir: 'desc' })), [3, 2, 4, 1]);
  assert.deepEqual(Array.from(sorted(rows, { key: 'priority', dir: 'asc' })), [1, 4, 3, 2], 'low first; ties still by urgency');
  assert.deepEqual(Array.from(sorted(rows, { key: 'customer', dir: 'asc' })), [3, 2, 4, 1]);
  assert.deepEqual({ ...vm.runInContext('parseSort("priority:desc")', page) }, { key: 'priority', dir: 'desc' });
  assert.equal(vm.runInContext('parseSort("nope:asc")', page), null);
});

test('filters: assignee none and me, priority, and the search box', () => {
  const page = load();
  const pick = vm.runInContext(`(rows, filters, me) => {
    app.me = me;
    Object.assign(app.filters, { q: '', team: '', customer: '', kind: '', state: '', priority: '', assignee: '' }, filters);
    return rows.filter(matches).map((r) => r.request.id);
  }`, page);
  const rows = [
    row(1, { assignee: '', priority: 'urgent', title: 'VPN drops every hour' }),
    row(2, { assignee: 'se-person', priority: 'low', title: 'Résumé upload fails', customer: 'globex' }),
    row(12, { assignee: 'other', priority: 'urgent', title: 'Search is slow' }),
  ];
  const me = { person: 'se-person', role: 'se' };
  assert.deepEqual(Array.from(pick(rows, { assignee: 'none' }, me)), [1]);
  assert.deepEqual(Array.from(pick(rows, { assignee: 'me' }, me)), [2]);
  assert.deepEqual(Array.from(pick(rows, { assignee: 'other' }, me)), [12]);
  assert.deepEqual(Array.from(pick(rows, { priority: 'urgent' }, me)), [1, 12]);
  assert.deepEqual(Array.from(pick(rows, { q: 'resume' }, me)), [2], 'accents aside');
  assert.deepEqual(Array.from(pick(rows, { q: 'GLOBEX' }, me)), [2], 'by customer');
  assert.deepEqual(Array.from(pick(rows, { q: '#12' }, me)), [12], 'by id');
  assert.deepEqual(Array.from(pick(rows, { q: 'vpn hour' }, me)), [1], 'every word');
  assert.deepEqual(Array.from(pick(rows, { q: 'vpn slow' }, me)), []);
});

test('the escalations strip asks the server with the page\'s filters and a bound', async () => {
  const asked = [];
  const page = load(async (path) => {
    asked.push(path);
    return { ok: true, status: 200, json: async () => ({ count: 9, open: 9, escalations: [] }) };
  });
  vm.runInContext(`Object.assign(app.filters, { team: 'se', state: 'warning', priority: 'urgent', assignee: 'none', q: 'vpn' })`, page);
  const strip = await vm.runInContext('fetchEscalations(3)', page);
  assert.equal(strip.count, 9);
  const url = new URL(asked[0], 'http://dashboard');
  assert.equal(url.pathname, '/v1/dashboard/escalations');
  assert.deepEqual(Object.fromEntries(url.searchParams), { team: 'se', state: 'warning', priority: 'urgent', assignee: 'none', limit: '3' });
});

test('the snapshot asks the server with every filter and the search words', async () => {
  const asked = [];
  const page = load(async (path) => {
    asked.push(path);
    return { ok: true, status: 200, json: async () => ({ id: '1', now: 1000, clock_speed: 1, requests: [], calendars: {}, counts: [], open_clocks: 0, next_cursor: null, request_counts: [] }) };
  });
  vm.runInContext(`Object.assign(app.filters, { team: 'se', customer: 'acme', kind: 'troubleshooting', state: 'breached', priority: 'urgent', assignee: 'me', q: 'vpn drops' })`, page);
  await vm.runInContext('loadSnapshot()', page);
  const url = new URL(asked[0], 'http://dashboard');
  assert.equal(url.pathname, '/v1/dashboard/clocks');
  assert.deepEqual(Object.fromEntries(url.searchParams),
    { q: 'vpn drops', team: 'se', customer: 'acme', kind: 'troubleshooting', state: 'breached', priority: 'urgent', assignee: 'me' });
});

test('a change keeps the filtered view right: leaving, joining, and words only the server can judge', () => {
  const page = load();
  const frame = (request) => `event: change\nid: 7\ndata: ${JSON.stringify({ now: 1000, request, events: [{ type: 'request.assigned', at: '2026-12-01T00:00:00Z', actor: 'se' }], calendars: {} })}`;
  const request = (id, extra = {}) => ({ id, title: 'VPN drops', customer: { id: 'acme', name: 'Acme' }, kind: 'troubleshooting', priority: 'normal', owner: 'se', assignee: '', status: 'open', clocks: [{ metric: 'resolution', state: 'running', breached: false, remaining_seconds: 60, calendar: 'always', deadline: 2000 }], ...extra });
  const inVm = vm.runInContext('(frame) => { handleFrame(frame); return [...app.requests.keys()]; }', page);
  const held = (f) => Array.from(inVm(f));
  vm.runInContext(`app.filters.assignee = 'none'`, page);
  assert.deepEqual(held(frame(request(1))), [1], 'matches: joins');
  assert.deepEqual(held(frame(request(2, { assignee: 'sam' }))), [1], 'does not match: stays out');
  assert.deepEqual(held(frame(request(1, { assignee: 'sam' }))), [], 'stops matching: leaves');
  vm.runInContext(`app.filters.assignee = ''; app.filters.q = 'kerberos'`, page);
  assert.deepEqual(held(frame(request(3))), [], 'the words may be in the body: the server is asked, nothing is added yet');
  assert.deepEqual(held(frame(request(4, { title: 'Kerberos ticket expired' }))), [4], 'the title holds them: joins');
});

test('which buttons a role is shown', () => {
  const page = load();
  const can = vm.runInContext('(role, action) => { app.me = { person: "p", role }; return can(action); }', page);
  assert.equal(can('se', 'respond'), true);
  assert.equal(can('se', 'take'), true);
  assert.equal(can('se', 'acknowledge_escalation'), false);
  assert.equal(can('head_of_cs', 'acknowledge_escalation'), true);
  assert.equal(can('head_of_cs', 'assign'), true);
  assert.equal(can('head_of_cs', 'respond'), false);
  assert.equal(can('viewer', 'respond'), false);
  assert.equal(can('viewer', 'take'), false);
});
