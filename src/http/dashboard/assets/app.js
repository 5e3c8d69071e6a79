// The SE dashboard: a snapshot of every open SLA clock, kept current by the server's event
// stream, counting down in business time between events.
//
// - The token is asked once and kept in sessionStorage; every call sends it as a Bearer header.
//   The stream is read with fetch() (not EventSource, which cannot send headers), so the token
//   never appears in a URL.
// - Each clock carries its business seconds left as of the server's `now`; its calendar's open
//   intervals say when business time passes, so the page counts down only while the calendar
//   is open and the clock is not paused.
// - The stream resumes from the last event id it saw; a `resync` event (this page fell behind,
//   or the server restarted) reloads the snapshot.
'use strict';

const TOKEN_KEY = 'switchboard.token';
const TEAMS = ['ce', 'se', 'product', 'engineering', 'engineering_discussion'];
const TEAM_NAMES = { ce: 'CE', se: 'SE', product: 'Product', engineering: 'Engineering', engineering_discussion: 'Eng. discussion' };
const KINDS = { how_to: 'How-to', feature_request: 'Feature request', troubleshooting: 'Troubleshooting', engineering_interrupt: 'Eng. interrupt', concern: 'Concern' };
const METRICS = { first_response: 'First response', next_response: 'Next response', resolution: 'Resolution' };
const STATES = {
  breached: { icon: '✖', label: 'Breached' },
  warning: { icon: '⚠', label: 'Warning' },
  running: { icon: '▶', label: 'Running' },
  paused: { icon: '‖', label: 'Paused' },
};
// A clock paused after it breached is still breached: both words, both icons.
const BREACHED_PAUSED = { icon: '✖‖', label: 'Breached, paused' };
const FILTERS = ['team', 'customer', 'kind', 'state'];

const app = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  requests: new Map(),   // id -> row from the server, plus now0: the server time its numbers hold at
  calendars: new Map(),  // name -> {zone, intervals: [[open, close], ...]} in Unix seconds
  lastId: '',
  partial: null,         // {counts, total} when the snapshot holds only the most urgent open clocks
  skew: null,            // server clock minus ours, in ms (a lower bound: the server floors `now`)
  filters: { team: '', customer: '', kind: '', state: '' },
  large: false,
  detailId: null,
  stream: null,          // the AbortController of the current stream
  generation: 0,
  backoff: 1000,
  shownStates: new Map(),
  fresh: new Set(),
  escalationTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'title' || key === 'type' || key === 'scope') node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// ---- time --------------------------------------------------------------------------------

function serverNow() { return (Date.now() + (app.skew ?? 0)) / 1000; }

function observeServerTime(now) {
  const skew = now * 1000 - Date.now();
  if (app.skew === null || skew > app.skew) app.skew = skew;
}

function mergeCalendars(calendars) {
  for (const [name, cal] of Object.entries(calendars || {})) {
    const old = app.calendars.get(name);
    const all = (old ? old.intervals : []).concat(cal.intervals).sort((a, b) => a[0] - b[0]);
    const joined = [];
    for (const [open, close] of all) {
      const last = joined[joined.length - 1];
      if (last && open <= last[1]) last[1] = Math.max(last[1], close);
      else joined.push([open, close]);
    }
    app.calendars.set(name, { zone: cal.zone, intervals: joined });
  }
}

// Business seconds in [from, to) on a calendar.
function businessBetween(calendar, from, to) {
  let total = 0;
  if (!calendar || to <= from) return 0;
  for (const [open, close] of calendar.intervals) {
    if (close <= from) continue;
    if (open >= to) break;
    total += Math.min(close, to) - Math.max(open, from);
  }
  return total;
}

function isOpen(calendar, t) {
  return !!calendar && calendar.intervals.some(([open, close]) => open <= t && t < close);
}

function nextOpen(calendar, t) {
  if (!calendar) return null;
  for (const [open, close] of calendar.intervals) if (close > t) return Math.max(open, t);
  return null;
}

const formatters = new Map();
function zoned(seconds, zone) {
  const key = zone || 'UTC';
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat('en-US', {
      timeZone: key, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short',
    }));
  }
  return formatters.get(key).format(new Date(seconds * 1000)).replace(',', '');
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(Math.abs(seconds)));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const two = (n) => String(n).padStart(2, '0');
  if (h) return `${h}h ${two(m)}m ${two(sec)}s`;
  if (m) return `${m}m ${two(sec)}s`;
  return `${sec}s`;
}

// What one clock shows at server time t.
function clockAt(request, clock, t) {
  const calendar = app.calendars.get(clock.calendar);
  const paused = clock.state === 'paused';
  const remaining = paused ? clock.remaining_seconds
    : clock.remaining_seconds - Math.floor(businessBetween(calendar, request.now0, t));
  let state = clock.state;
  if (!paused) {
    if (state === 'breached' || remaining <= 0) state = 'breached';
    else if (state === 'warning' || remaining <= clock.warning_remaining_seconds) state = 'warning';
    else state = 'running';
  }
  const ticking = !paused && isOpen(calendar, t);
  // The API keeps `breached` true on a paused clock that breached before it paused.
  const breached = state === 'breached' || (paused && clock.breached === true);
  let when = '';
  if (paused) {
    const why = request.status === 'pending_customer' ? 'paused: waiting on the customer' : 'paused';
    when = breached ? `breached, ${why}` : why;
  } else if (!ticking) {
    const resumes = nextOpen(calendar, t);
    when = resumes ? `resumes ${zoned(resumes, calendar.zone)}` : 'resumes later';
  } else if (state === 'breached') {
    when = clock.deadline ? `breached ${duration(t - clock.deadline)} ago` : 'breached';
  } else if (clock.deadline) {
    when = `due ${zoned(clock.deadline, calendar ? calendar.zone : 'UTC')}`;
  }
  return { remaining, state, breached, ticking, when };
}

// ---- data --------------------------------------------------------------------------------

function rows() {
  const t = serverNow();
  const out = [];
  for (const request of app.requests.values()) {
    for (const clock of request.clocks) out.push({ request, clock, key: `${request.id}:${clock.metric}`, ...clockAt(request, clock, t) });
  }
  // Breached first (their deadlines are past), then by deadline; paused (no deadline) last.
  out.sort((a, b) => {
    const pa = a.clock.deadline == null, pb = b.clock.deadline == null;
    if (pa !== pb) return pa ? 1 : -1;
    if (!pa && a.clock.deadline !== b.clock.deadline) return a.clock.deadline - b.clock.deadline;
    if (pa && a.remaining !== b.remaining) return a.remaining - b.remaining;
    return a.request.id - b.request.id;
  });
  return out;
}

function matches(row) {
  const f = app.filters;
  return (!f.team || row.request.owner === f.team) &&
    (!f.customer || row.request.customer.id === f.customer) &&
    (!f.kind || row.request.kind === f.kind) &&
    (!f.state || row.state === f.state || (f.state === 'breached' && row.breached));
}

function applyRequest(request, now) {
  if (!request.clocks.length) app.requests.delete(request.id);
  else app.requests.set(request.id, { ...request, now0: now });
}

// ---- rendering ---------------------------------------------------------------------------

function stateBadge(state, breached = false) {
  const s = state === 'paused' && breached ? BREACHED_PAUSED : STATES[state] || { icon: '•', label: state };
  return el('span', { class: `state state-${state}` }, el('span', { class: 'icon', 'aria-hidden': 'true', text: s.icon }), s.label);
}

function renderCounts(all) {
  const box = $('team-counts');
  box.replaceChildren();
  const teams = new Map(TEAMS.map((t) => [t, { total: 0, breached: 0, warning: 0, paused: 0 }]));
  const count = (team, state, n, breached = false) => {
    const c = teams.get(team) || { total: 0, breached: 0, warning: 0, paused: 0 };
    teams.set(team, c);
    c.total += n;
    if (c[state] !== undefined) c[state] += n;
    if (breached && state !== 'breached') c.breached += n;  // breached, paused: both counts
  };
  // With more open clocks than the snapshot holds, the counts are the server's (as of the
  // snapshot), not those of the rows loaded.
  // A paused clock that breached first comes as its own row, {state: 'paused', breached: true}.
  if (app.partial) for (const c of app.partial.counts) count(c.team, c.state, c.clocks, c.breached === true);
  else for (const row of all) count(row.request.owner, row.state, 1, row.breached);
  for (const [team, c] of teams) {
    if (!c.total && team !== 'se' && app.filters.team !== team) continue;
    const button = el('button', {
      type: 'button', class: 'team-count', 'data-team': team, 'aria-pressed': String(app.filters.team === team),
      title: `Show only ${TEAM_NAMES[team] || team}`,
    },
    el('span', { class: 'team-name', text: TEAM_NAMES[team] || team }),
    el('span', { class: 'total', text: String(c.total) }),
    el('span', { class: 'breakdown', text: `${c.breached} breached · ${c.warning} warning · ${c.paused} paused` }));
    button.addEventListener('click', () => setFilter('team', app.filters.team === team ? '' : team));
    box.append(button);
  }
}

function fillSelect(select, values, labels, current) {
  const keep = select.value;
  const options = [select.options[0]];
  const all = new Set(values);
  if (current) all.add(current);
  for (const value of [...all].sort()) options.push(el('option', { value, text: labels(value) }));
  select.replaceChildren(...options);
  select.value = current || '';
  if (select.value !== (current || '')) select.value = keep;
}

function renderFilters() {
  fillSelect($('filter-team'), TEAMS, (t) => TEAM_NAMES[t] || t, app.filters.team);
  const customers = new Map();
  for (const r of app.requests.values()) customers.set(r.customer.id, r.customer.name || r.customer.id);
  fillSelect($('filter-customer'), [...customers.keys()], (id) => customers.get(id) || id, app.filters.customer);
  fillSelect($('filter-kind'), Object.keys(KINDS), (k) => KINDS[k] || k, app.filters.kind);
  const stateSelect = $('filter-state');
  stateSelect.replaceChildren(stateSelect.options[0], ...Object.entries(STATES).map(([k, s]) => el('option', { value: k, text: s.label })));
  stateSelect.value = app.filters.state;
}

function render() {
  const all = rows();
  const focusedKey = document.activeElement && document.activeElement.closest('tr')?.dataset.key;
  renderCounts(all);
  renderFilters();
  const shown = all.filter(matches);
  const body = $('clock-rows');
  body.replaceChildren(...shown.map(renderRow));
  $('no-clocks').hidden = shown.length > 0;
  $('shown-count').textContent = app.partial
    ? `${shown.length} of the ${all.length} most urgent clocks shown (${app.partial.total} open in all)`
    : `${shown.length} of ${all.length} clocks shown`;
  app.shownStates = new Map(all.map((r) => [r.key, r.state]));
  if (focusedKey) body.querySelector(`tr[data-key="${CSS.escape(focusedKey)}"] .open-request`)?.focus();
}

function renderRow(row) {
  const { request, clock } = row;
  const open = el('button', { type: 'button', class: 'open-request', title: 'Open the request: events, trace, clocks' },
    el('span', { class: 'request-id', text: `#${request.id} ` }), request.title);
  open.addEventListener('click', () => openDetail(request.id));
  const tr = el('tr', {
    'data-key': row.key, 'data-request': String(request.id), 'data-metric': clock.metric, 'data-team': request.owner,
    'data-state': row.state, 'data-breached': row.breached ? 'true' : undefined, class: app.fresh.has(request.id) ? 'fresh' : '',
  },
  el('td', { class: 'state-cell' }, stateBadge(row.state, row.breached)),
  el('td', { class: 'countdown', 'data-remaining': String(row.remaining), text: countdownText(row) }),
  el('td', { class: 'request-cell' }, open),
  el('td', { text: request.customer.name || request.customer.id }),
  el('td', { class: 'secondary nowrap', text: KINDS[request.kind] || request.kind }),
  el('td', { class: 'nowrap', text: TEAM_NAMES[request.owner] || request.owner }),
  el('td', { class: 'secondary', text: request.assignee || '—' }),
  el('td', { class: 'nowrap', text: METRICS[clock.metric] || clock.metric }),
  el('td', { class: 'when', text: row.when }));
  return tr;
}

function countdownText(row) {
  return row.remaining >= 0 ? duration(row.remaining) : `−${duration(row.remaining)} over`;
}

// Every half second: new numbers in place; a full render when a clock changes state.
function tick() {
  if ($('main').hidden) return;
  const all = rows();
  if (all.some((r) => app.shownStates.get(r.key) !== r.state)) return render();
  const byKey = new Map(all.map((r) => [r.key, r]));
  for (const tr of $('clock-rows').children) {
    const row = byKey.get(tr.dataset.key);
    if (!row) continue;
    const cell = tr.querySelector('.countdown');
    const text = countdownText(row);
    if (cell.textContent !== text) {
      cell.textContent = text;
      cell.dataset.remaining = String(row.remaining);
    }
    const when = tr.querySelector('.when');
    if (when.textContent !== row.when) when.textContent = row.when;
  }
}

// ---- the URL -----------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const f of FILTERS) app.filters[f] = params.get(f) || '';
  app.large = params.get('large') === '1';
  const id = Number(params.get('request'));
  app.detailId = Number.isInteger(id) && id > 0 ? id : null;
}

function writeUrl() {
  const params = new URLSearchParams();
  for (const f of FILTERS) if (app.filters[f]) params.set(f, app.filters[f]);
  if (app.large) params.set('large', '1');
  if (app.detailId) params.set('request', String(app.detailId));
  const query = params.toString();
  history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
}

function setFilter(name, value) {
  app.filters[name] = value;
  writeUrl();
  render();
}

function setLarge(on) {
  app.large = on;
  document.documentElement.classList.toggle('large', on);
  $('large-type').setAttribute('aria-pressed', String(on));
  writeUrl();
}

// ---- the server --------------------------------------------------------------------------

class Unauthorized extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${app.token}` }, cache: 'no-store' });
  if (res.status === 401) {
    let message = 'the server refused this token';
    try { message = (await res.json()).error.message; } catch (e) { /* keep the default */ }
    throw new Unauthorized(message);
  }
  return res;
}

async function loadSnapshot() {
  const res = await api('/v1/dashboard/clocks');
  if (!res.ok) throw new Error(`snapshot: HTTP ${res.status}`);
  const snapshot = await res.json();
  app.requests = new Map();
  app.calendars = new Map();
  app.skew = null;
  observeServerTime(snapshot.now);
  mergeCalendars(snapshot.calendars);
  for (const request of snapshot.requests) applyRequest(request, snapshot.now);
  // The snapshot holds the most urgent open clocks only when there are many.
  app.partial = snapshot.next_cursor == null ? null : { counts: snapshot.counts, total: snapshot.open_clocks };
  app.lastId = snapshot.id;
  render();
}

function setLive(state, text) {
  const live = $('live');
  live.dataset.state = state;
  live.textContent = text;
}

async function connect() {
  const generation = ++app.generation;
  if (app.stream) app.stream.abort();
  const controller = new AbortController();
  app.stream = controller;
  let next = 'reconnect';
  try {
    const res = await fetch('/v1/dashboard/stream', {
      headers: { Authorization: `Bearer ${app.token}`, 'Last-Event-ID': app.lastId, Accept: 'text/event-stream' },
      cache: 'no-store', signal: controller.signal,
    });
    if (res.status === 401) return askToken('The server refused this token. Enter another.');
    if (!res.ok) throw new Error(`stream: HTTP ${res.status}`);
    setLive('live', '● Live');
    app.backoff = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const outcome = handleFrame(frame);
        if (outcome) { next = outcome; break; }
      }
      if (next !== 'reconnect') break;
    }
    controller.abort();
  } catch (error) {
    if (generation !== app.generation) return;  // replaced by a newer stream
    if (error instanceof Unauthorized) return askToken(error.message);
  }
  if (generation !== app.generation) return;
  if (next === 'resync') {
    setLive('reconnecting', '↻ Catching up…');
    try {
      await loadSnapshot();
      return connect();
    } catch (error) {
      if (error instanceof Unauthorized) return askToken(error.message);
    }
  }
  setLive('reconnecting', '⚠ Reconnecting…');
  const wait = app.backoff;
  app.backoff = Math.min(app.backoff * 2, 10000);
  setTimeout(() => { if (generation === app.generation) connect(); }, wait);
}

// Applies one SSE frame; returns 'resync' when the page must reload its snapshot.
function handleFrame(frame) {
  let id = null, event = 'message';
  const data = [];
  for (const line of frame.split('\n')) {
    if (!line || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (event === 'resync') return 'resync';
  if (event === 'bye') return 'bye';
  if (event !== 'change' || !data.length) return null;
  const change = JSON.parse(data.join('\n'));
  observeServerTime(change.now);
  mergeCalendars(change.calendars);
  applyRequest(change.request, change.now);
  if (id) app.lastId = id;
  app.fresh.add(change.request.id);
  setTimeout(() => { app.fresh.delete(change.request.id); render(); }, 3000);
  render();
  if (change.events.some((e) => e.type.startsWith('escalation.'))) loadEscalations();
  if (app.detailId === change.request.id && $('detail').open) loadDetail(change.request.id);
  return null;
}

// Every open escalation: the list is paged (at most 200 a page), so follow next_cursor to the
// end; a page that fails leaves the panel as it was rather than showing a partial list.
const ESCALATION_PAGE = 200;
const ESCALATION_PAGES_MAX = 50;  // 10,000 open escalations: a bound, in case a cursor never ends

async function fetchOpenEscalations() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < ESCALATION_PAGES_MAX; page += 1) {
    const query = new URLSearchParams({ state: 'open', limit: String(ESCALATION_PAGE) });
    if (cursor) query.set('cursor', cursor);
    const res = await api(`/v1/escalations?${query}`);
    if (!res.ok) return null;
    const body = await res.json();
    items.push(...(Array.isArray(body) ? body : body.escalations || []));
    cursor = Array.isArray(body) ? null : body.next_cursor;
    if (!cursor) break;
  }
  return items;
}

async function loadEscalations() {
  const list = $('escalation-list');
  let items = null;
  try {
    items = await fetchOpenEscalations();
    if (items === null) return;
  } catch (error) {
    if (error instanceof Unauthorized) return;
  }
  if (!items || !items.length) {
    list.replaceChildren(el('li', { class: 'none', text: 'No open escalations.' }));
    return;
  }
  list.replaceChildren(...items.map((e) => {
    const notifications = e.notifications || [];
    const last = notifications[notifications.length - 1];
    const level = last ? last.level : e.next_level;
    const button = el('button', { type: 'button', class: 'open-request' }, el('span', { class: 'request-id', text: `#${e.request_id} ` }),
      app.requests.get(e.request_id)?.title || `request ${e.request_id}`);
    button.addEventListener('click', () => openDetail(e.request_id));
    return el('li', { 'data-escalation': e.id },
      button,
      el('div', {}, el('span', { class: 'level', text: `Level ${level ?? '?'}` }), ` · ${String(e.ladder || '').replace(/_/g, ' ')} · ${e.state || 'open'}`),
      e.reason ? el('div', { class: 'notified', text: e.reason }) : null,
      last ? el('div', { class: 'notified', text: `notified ${(last.roles || []).join(', ')} at ${new Date(last.at).toLocaleString()}${last.why ? ` — ${last.why}` : ''}` }) : null);
  }));
}

// ---- request detail ----------------------------------------------------------------------

function openDetail(id) {
  app.detailId = id;
  writeUrl();
  const dialog = $('detail');
  $('detail-title').textContent = `Request #${id}`;
  $('detail-body').replaceChildren(el('p', { text: 'Loading…' }));
  if (!dialog.open) dialog.showModal();
  loadDetail(id);
}

async function loadDetail(id) {
  try {
    const [requestRes, eventsRes] = await Promise.all([api(`/v1/requests/${id}`), api(`/v1/requests/${id}/events?limit=200`)]);
    if (!requestRes.ok) throw new Error(`HTTP ${requestRes.status}`);
    const request = await requestRes.json();
    const events = [];
    // Events come 200 a page, oldest first: follow the cursor (a few pages for the longest histories).
    let page = eventsRes.ok ? await eventsRes.json() : { events: [], next_cursor: null };
    for (;;) {
      events.push(...page.events);
      if (page.next_cursor == null || app.detailId !== id) break;
      const more = await api(`/v1/requests/${id}/events?limit=200&cursor=${encodeURIComponent(page.next_cursor)}`);
      if (!more.ok) break;
      page = await more.json();
    }
    if (app.detailId !== id) return;
    renderDetail(request, events);
  } catch (error) {
    if (error instanceof Unauthorized) return askToken(error.message);
    $('detail-body').replaceChildren(el('p', { text: `Could not load request #${id}: ${error.message}` }));
  }
}

function table(headers, rowsOfCells) {
  return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, ...rowsOfCells.map((cells) => el('tr', {}, ...cells.map((c) => el('td', { text: c ?? '' }))))));
}

function renderDetail(request, events) {
  $('detail-title').textContent = `#${request.id} ${request.title}`;
  const customer = request.customer || {};
  const facts = [
    ['Customer', `${customer.name || customer.id} (${customer.stage}${customer.tier ? `, ${customer.tier}` : ''})`],
    ['Kind', KINDS[request.kind] || request.kind], ['Status', request.status],
    ['Team', TEAM_NAMES[request.owner] || request.owner], ['Assignee', request.assignee || '—'],
    ['Priority', request.priority], ['Created', request.created_at],
  ];
  const routing = request.routing || {};
  const trace = (routing.trace || []).map((r) => {
    const f = r.failure;
    const text = r.matched ? `+ ${r.rule} matched` : `- ${r.rule}: ${f ? `${f.field} ${f.op} ${f.expected} failed (actual: ${f.actual})` : 'no match'}`;
    return el('li', { class: r.matched ? 'matched' : '', text });
  });
  $('detail-body').replaceChildren(
    el('dl', { class: 'detail-grid' }, ...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v || '—' })])),
    request.body ? el('p', { text: request.body }) : null,
    el('section', { class: 'detail-section' }, el('h3', { text: 'Clocks' }),
      table(['Metric', 'State', 'Left (business)', 'Target', 'Deadline'], (request.clocks || []).map((c) => [
        METRICS[c.metric] || c.metric,
        c.state === 'paused' && c.breached ? 'breached, paused' : c.warned && c.state === 'running' ? 'warning' : c.state,
        c.open ? (c.remaining_seconds >= 0 ? duration(c.remaining_seconds) : `−${duration(c.remaining_seconds)} over`) : '—',
        duration(c.target_seconds), c.deadline || (c.completed_at ? `done ${c.completed_at}` : '—')]))),
    el('section', { class: 'detail-section' }, el('h3', { text: 'Routing' }),
      el('p', { text: `${routing.rule || '?'}: ${routing.reason || ''}` }),
      ...(routing.notes || []).map((n) => el('p', { class: 'hint', text: n })),
      el('ol', { class: 'trace' }, ...trace)),
    el('section', { class: 'detail-section' }, el('h3', { text: 'Events' }),
      table(['At', 'Event', 'By'], events.map((e) => [e.at, e.type, e.actor]))));
}

// ---- token and start ---------------------------------------------------------------------

function askToken(message) {
  app.generation++;
  if (app.stream) app.stream.abort();
  app.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('main').hidden = true;
  $('forget-token').hidden = true;
  $('token-panel').hidden = false;
  $('token-message').textContent = message;
  setLive('idle', '○ Not connected');
  $('token-input').focus();
}

async function start() {
  if (!app.token) {
    return askToken('This dashboard needs an API token: no token has been given in this tab yet.');
  }
  $('token-panel').hidden = true;
  $('main').hidden = false;
  $('forget-token').hidden = false;
  setLive('reconnecting', '… Loading');
  try {
    await loadSnapshot();
  } catch (error) {
    if (error instanceof Unauthorized) return askToken(`The server refused this token (${error.message}). Enter another.`);
    setLive('reconnecting', `⚠ ${error.message}`);
  }
  connect();
  loadEscalations();
  if (app.detailId) openDetail(app.detailId);
}

function onKey(event) {
  const target = event.target;
  const typing = target.matches && target.matches('input, select, textarea');
  if (typing || event.ctrlKey || event.metaKey || event.altKey || $('main').hidden) return;
  if (event.key === '/') {
    event.preventDefault();
    $('filter-team').focus();
  } else if (event.key === 'l' || event.key === 'L') {
    setLarge(!app.large);
  } else if (['ArrowDown', 'ArrowUp', 'j', 'k'].includes(event.key) && !$('detail').open) {
    const buttons = [...document.querySelectorAll('#clock-rows .open-request')];
    if (!buttons.length) return;
    event.preventDefault();
    const at = buttons.indexOf(document.activeElement);
    const down = event.key === 'ArrowDown' || event.key === 'j';
    const next = at < 0 ? 0 : Math.min(buttons.length - 1, Math.max(0, at + (down ? 1 : -1)));
    buttons[next].focus();
  }
}

function init() {
  readUrl();
  setLarge(app.large);
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    app.token = $('token-input').value.trim();
    $('token-input').value = '';
    if (!app.token) return;
    sessionStorage.setItem(TOKEN_KEY, app.token);
    start();
  });
  $('forget-token').addEventListener('click', () => askToken('Token forgotten. Enter a token to view the dashboard.'));
  $('large-type').addEventListener('click', () => setLarge(!app.large));
  for (const f of FILTERS) $(`filter-${f}`).addEventListener('change', (event) => setFilter(f, event.target.value));
  $('filter-clear').addEventListener('click', () => { for (const f of FILTERS) app.filters[f] = ''; writeUrl(); render(); });
  const dialog = $('detail');
  dialog.addEventListener('close', () => {
    const id = app.detailId;
    app.detailId = null;
    writeUrl();
    document.querySelector(`#clock-rows tr[data-request="${id}"] .open-request`)?.focus();
  });
  document.addEventListener('keydown', onKey);
  // Drops the live connection as a network failure would (the page reconnects and resumes).
  document.addEventListener('switchboard:drop-stream', () => { if (app.stream) app.stream.abort(); });
  setInterval(tick, 500);
  setInterval(() => { if (!$('main').hidden) loadSnapshot().catch(() => {}); }, 30 * 60 * 1000);
  setInterval(() => { if (!$('main').hidden) loadEscalations(); }, 60 * 1000);
  start();
}

init();
