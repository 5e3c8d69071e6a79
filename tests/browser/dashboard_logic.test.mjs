// The dashboard's logic without a browser: app.js runs in a Node vm context whose DOM is an inert
// stub, and its functions are called directly. Needs only node (no Chromium): what a clock shows
// (a breached clock paused on the customer still says breached) and the escalation panel
// following next_cursor to the last page.
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

test('the escalation panel follows next_cursor to the last page', async () => {
  const asked = [];
  const pages = new Map([
    ['', { escalations: [{ id: '3-1' }, { id: '2-1' }], next_cursor: 'c1' }],
    ['c1', { escalations: [{ id: '1-2' }], next_cursor: 'c2' }],
    ['c2', { escalations: [{ id: '1-1' }], next_cursor: null }],
  ]);
  const page = load(async (path) => {
    asked.push(path);
    const query = new URL(path, 'http://dashboard').searchParams;
    assert.equal(query.get('state'), 'open');
    return { ok: true, status: 200, json: async () => pages.get(query.get('cursor') || '') };
  });
  const items = await vm.runInContext('fetchOpenEscalations()', page);
  assert.deepEqual(Array.from(items, (e) => e.id), ['3-1', '2-1', '1-2', '1-1']);
  assert.equal(asked.length, 3);
  assert.ok(asked.every((p) => new URL(p, 'http://dashboard').searchParams.get('limit') === '200'));
});

test('a page that fails leaves the panel as it was', async () => {
  let calls = 0;
  const page = load(async () => {
    calls += 1;
    return calls === 1
      ? { ok: true, status: 200, json: async () => ({ escalations: [{ id: '1-1' }], next_cursor: 'c1' }) }
      : { ok: false, status: 500, json: async () => ({}) };
  });
  assert.equal(await vm.runInContext('fetchOpenEscalations()', page), null);
});
