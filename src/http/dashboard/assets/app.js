// The SE dashboard: a snapshot of every open SLA clock, kept current by the server's event
// stream, counting down in business time between events.
//
// - The token is asked once and kept in sessionStorage; every call sends it as a Bearer header.
//   The stream is read with fetch() (not EventSource, which cannot send headers), so the token
//   never appears in a URL.
// - Each clock carries its business seconds left as of the server's `now`; its calendar's open
//   intervals say when business time passes, so the page counts down only while the calendar
//   is open and the clock is not paused.
// - The filters (team, customer, kind, state, priority, assignee, search) are the server's: the
//   snapshot holds the most urgent open clocks that match them, and a change to a request the
//   view holds, or that now matches, is applied; one that stops matching leaves the view.
// - The stream resumes from the last event id it saw; a `resync` event (this page fell behind,
//   or the server restarted) reloads the snapshot.
// - Server time runs `clock_speed` times faster than ours under --clock-speed: the page anchors
//   it at each snapshot and change, and counts from the anchor at that pace.
// - Actions (take, assign, respond, pend, resolve; acknowledge and resolve an escalation) are
//   posted with the viewer's own token; the server decides, and a refusal shows its message.
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
const PRIORITIES = { urgent: 'Urgent', high: 'High', normal: 'Normal', low: 'Low' };
const PRIORITY_RANK = { low: 0, normal: 1, high: 2, urgent: 3 };
const FILTERS = ['q', 'team', 'customer', 'kind', 'state', 'priority', 'assignee'];
// Who may do what, as the server's action table says (engine/actions.cpp); only to choose which
// buttons to show: the server still decides each action, and a refusal shows its reason.
const WORKERS = ['ce', 'se', 'product', 'engineering'];
const ASSIGNERS = ['ce', 'se', 'product', 'engineering', 'head_of_cs', 'admin'];
const LADDER_ROLES = ['head_of_cs', 'vp_technical_success', 'vp_sales', 'head_of_engineering'];
const ESCALATIONS_FIRST = 3;    // the strip's most urgent few
const ESCALATIONS_PAGE = 20;    // and how many more each "show more" adds
// Sortable columns: the comparator, and the first direction a click gives.
const SORTS = {
  state: { first: 'desc', compare: (a, b) => stateRank(a) - stateRank(b) },
  left: { first: 'asc', compare: (a, b) => a.remaining - b.remaining },
  request: { first: 'asc', compare: (a, b) => a.request.id - b.request.id },
  priority: { first: 'desc', compare: (a, b) => (PRIORITY_RANK[a.request.priority] ?? -1) - (PRIORITY_RANK[b.request.priority] ?? -1) },
  customer: { first: 'asc', compare: (a, b) => text(customerName(a.request)).localeCompare(text(customerName(b.request))) },
  kind: { first: 'asc', compare: (a, b) => text(KINDS[a.request.kind]).localeCompare(text(KINDS[b.request.kind])) },
  team: { first: 'asc', compare: (a, b) => text(TEAM_NAMES[a.request.owner] || a.request.owner).localeCompare(text(TEAM_NAMES[b.request.owner] || b.request.owner)) },
  assignee: { first: 'asc', compare: (a, b) => text(a.request.assignee).localeCompare(text(b.request.assignee)) },
  metric: { first: 'asc', compare: (a, b) => text(METRICS[a.clock.metric]).localeCompare(text(METRICS[b.clock.metric])) },
  when: { first: 'asc', compare: (a, b) => urgency(a, b) },
};

const app = {
  token: sessionStorage.getItem(TOKEN_KEY) || '',
  requests: new Map(),   // id -> row from the server, plus now0: the server time its numbers hold at
  calendars: new Map(),  // name -> {zone, intervals: [[open, close], ...]} in Unix seconds
  lastId: '',
  partial: null,         // {counts, total} when the snapshot holds only the most urgent open clocks
  anchor: null,          // {now, local}: server time `now` (Unix s) was current at our Date.now() `local`
  speed: 1,              // server seconds per real second (the snapshot's clock_speed)
  filters: { q: '', team: '', customer: '', kind: '', state: '', priority: '', assignee: '' },
  sort: null,            // {key, dir}; null: by urgency
  me: null,              // GET /v1/me: {person, role, name, team, leads}
  people: [],            // GET /v1/people
  escalationLimit: ESCALATIONS_FIRST,
  search: null,          // {q, ids: Set}: requests the server matched with the search box's q (bodies too)
  snapshots: 0,          // snapshots asked for: an answer to an older one (older filters) is dropped
  rowAlerts: new Map(),  // request id -> the server's refusal of an action on its row, shown 15 s
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

// What a value shows as: a dash for nothing (never "null" or "undefined").
function show(value) {
  if (value === null || value === undefined || value === '' || (typeof value === 'number' && Number.isNaN(value))) return '—';
  return String(value);
}
const text = (value) => (value === null || value === undefined ? '' : String(value));
const customerName = (request) => (request.customer ? request.customer.name || request.customer.id : '');

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'title' || key === 'type' || key === 'scope' || key === 'role' || key === 'for') node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

// ---- time --------------------------------------------------------------------------------

// Server time (Unix seconds) now: from the anchor, at the server's speed.
function serverNow(local = Date.now()) {
  if (!app.anchor) return local / 1000;
  return app.anchor.now + ((local - app.anchor.local) * app.speed) / 1000;
}

// The server floors `now` to the second: an observation later than our estimate moves the
// anchor forward (the estimate stays a lower bound), an earlier one is an older truth.
function observeServerTime(now, local = Date.now()) {
  if (typeof now !== 'number') return;
  if (!app.anchor || now > serverNow(local)) app.anchor = { now, local };
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
  out.sort(compareRows(app.sort));
  return out;
}

// Breached first (their deadlines are past), then by deadline; paused (no deadline) last.
function urgency(a, b) {
  const pa = a.clock.deadline == null, pb = b.clock.deadline == null;
  if (pa !== pb) return pa ? 1 : -1;
  if (!pa && a.clock.deadline !== b.clock.deadline) return a.clock.deadline - b.clock.deadline;
  if (pa && a.remaining !== b.remaining) return a.remaining - b.remaining;
  return a.request.id - b.request.id;
}

function stateRank(row) {
  if (row.breached || row.state === 'breached') return 3;
  return { warning: 2, running: 1, paused: 0 }[row.state] ?? -1;
}

// By the chosen column (ties by urgency), or by urgency.
function compareRows(sort) {
  const by = sort && SORTS[sort.key];
  if (!by) return urgency;
  const sign = sort.dir === 'desc' ? -1 : 1;
  return (a, b) => sign * by.compare(a, b) || urgency(a, b);
}

function parseSort(value) {
  const [key, dir] = String(value || '').split(':');
  if (!SORTS[key]) return null;
  return { key, dir: dir === 'desc' ? 'desc' : 'asc' };
}

// The search box's text matches a request by id ("12" or "#12"), title or customer: every
// word somewhere, case and accents aside; or the server found it (bodies too: the snapshot's q).
const fold = (s) => text(s).normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
function matchesQuery(request, q) {
  const words = fold(q).split(/\s+/).filter(Boolean);
  if (!words.length) return true;
  // "#12" is request 12 alone; "12" is it, and any text with the word.
  const id = /^(#?)(\d+)$/.exec(q.trim());
  if (id && Number(id[2]) === request.id) return true;
  if (id && id[1]) return false;
  if (app.search && app.search.q === q && app.search.ids.has(request.id)) return true;
  const haystack = fold(`#${request.id} ${request.title} ${text(request.customer?.name)} ${text(request.customer?.id)}`);
  return words.every((w) => haystack.includes(w));
}

function matchesRequest(request, f = app.filters) {
  const mine = app.me ? app.me.person : null;
  return (!f.team || request.owner === f.team) &&
    (!f.customer || request.customer.id === f.customer) &&
    (!f.kind || request.kind === f.kind) &&
    (!f.priority || request.priority === f.priority) &&
    (!f.assignee || (f.assignee === 'none' ? !request.assignee : f.assignee === 'me' ? request.assignee === mine : request.assignee === f.assignee)) &&
    (!f.q || matchesQuery(request, f.q));
}

// Whether a changed request belongs in the view by the filters the page can judge alone (all but
// the search box's words, which may be in the body only the server has).
function inViewApartFromSearch(request) {
  const f = app.filters;
  return matchesRequest(request, { ...f, q: '' }) &&
    (!f.state || request.clocks.some((c) => c.state === f.state || (f.state === 'breached' && c.breached)));
}

function matches(row) {
  const f = app.filters;
  return matchesRequest(row.request, f) &&
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

// A request's worst open clock: breached (also breached, then paused) > warning > running > paused.
function worstState(clockRows) {
  let worst = null;
  for (const row of clockRows) {
    const state = row.breached ? 'breached' : row.state;
    if (worst === null || stateRank({ state }) > stateRank({ state: worst })) worst = state;
  }
  return worst || 'none';
}

// Requests per team, each counted once by its worst open clock, and how many have no assignee.
// The server's counts (request_counts: every active request, kept by the database) when it
// sends them, else those of the rows the page holds.
function requestCounts(all) {
  if (app.requestCounts) return app.requestCounts;
  const byRequest = new Map();
  for (const row of all) {
    if (!byRequest.has(row.request.id)) byRequest.set(row.request.id, []);
    byRequest.get(row.request.id).push(row);
  }
  const out = [];
  for (const [id, clockRows] of byRequest) {
    const request = app.requests.get(id);
    out.push({ team: request.owner, state: worstState(clockRows), unassigned: !request.assignee, requests: 1 });
  }
  return out;
}

function renderCounts(all) {
  const box = $('team-counts');
  box.replaceChildren();
  const blank = () => ({ total: 0, breached: 0, warning: 0, running: 0, paused: 0, unassigned: 0 });
  const teams = new Map(TEAMS.map((t) => [t, blank()]));
  for (const c of requestCounts(all)) {
    if (!teams.has(c.team)) teams.set(c.team, blank());
    const t = teams.get(c.team);
    t.total += c.requests;
    if (t[c.state] !== undefined) t[c.state] += c.requests;
    if (c.unassigned) t.unassigned += c.requests;
  }
  for (const [team, c] of teams) {
    if (!c.total && team !== 'se' && app.filters.team !== team) continue;
    const button = el('button', {
      type: 'button', class: 'team-count', 'data-team': team, 'aria-pressed': String(app.filters.team === team),
      title: `Show only ${TEAM_NAMES[team] || team}`,
    },
    el('span', { class: 'team-name', text: TEAM_NAMES[team] || team }),
    el('span', { class: 'total', text: `${c.total} ${c.total === 1 ? 'request' : 'requests'}` }),
    el('span', { class: 'breakdown' },
      el('span', { 'data-count': 'breached', text: `${c.breached} breached` }), ' · ',
      el('span', { 'data-count': 'warning', text: `${c.warning} warning` }), ' · ',
      el('span', { 'data-count': 'paused', text: `${c.paused} paused` }), ' · ',
      el('span', { 'data-count': 'unassigned', text: `${c.unassigned} unassigned` })));
    button.dataset.total = String(c.total);
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
  const prioritySelect = $('filter-priority');
  prioritySelect.replaceChildren(prioritySelect.options[0], ...Object.entries(PRIORITIES).map(([k, label]) => el('option', { value: k, text: label })));
  prioritySelect.value = app.filters.priority;
  // Assignee: unassigned, mine, then the people directory and anyone holding a request.
  const names = new Map(app.people.map((p) => [p.id, p.name || p.id]));
  for (const r of app.requests.values()) if (r.assignee && !names.has(r.assignee)) names.set(r.assignee, r.assignee);
  if (app.filters.assignee && !['none', 'me'].includes(app.filters.assignee) && !names.has(app.filters.assignee)) names.set(app.filters.assignee, app.filters.assignee);
  const assigneeSelect = $('filter-assignee');
  assigneeSelect.replaceChildren(assigneeSelect.options[0],
    el('option', { value: 'none', text: 'Unassigned' }),
    el('option', { value: 'me', text: 'Mine' }),
    ...[...names.keys()].sort().map((id) => el('option', { value: id, text: names.get(id) })));
  assigneeSelect.value = app.filters.assignee;
  if (document.activeElement !== $('filter-q')) $('filter-q').value = app.filters.q;
}

function renderSortHeaders() {
  for (const th of document.querySelectorAll('#clocks th[data-sort]')) {
    const key = th.dataset.sort;
    const on = app.sort && app.sort.key === key;
    if (on) th.setAttribute('aria-sort', app.sort.dir === 'desc' ? 'descending' : 'ascending');
    else th.removeAttribute('aria-sort');
  }
}

function setSort(key) {
  const by = SORTS[key];
  if (!by) return;
  if (app.sort && app.sort.key === key) app.sort = { key, dir: app.sort.dir === 'asc' ? 'desc' : 'asc' };
  else app.sort = { key, dir: by.first };
  writeUrl();
  render();
}

function render() {
  const all = rows();
  const focusedKey = document.activeElement && document.activeElement.closest('tr')?.dataset.key;
  renderCounts(all);
  renderFilters();
  renderSortHeaders();
  const shown = all.filter(matches);
  const body = $('clock-rows');
  body.replaceChildren(...shown.map(renderRow));
  $('no-clocks').hidden = shown.length > 0;
  const filtered = FILTERS.some((f) => app.filters[f]);
  $('shown-count').textContent = app.partial
    ? `${shown.length} of the ${all.length} most urgent ${filtered ? 'matching ' : ''}clocks shown (${app.partial.total} open in all)`
    : `${shown.length} of ${all.length} clocks shown`;
  app.shownStates = new Map(all.map((r) => [r.key, r.state]));
  if (focusedKey) body.querySelector(`tr[data-key="${CSS.escape(focusedKey)}"] .open-request`)?.focus();
}

function personName(id) {
  if (!id) return '—';
  const person = app.people.find((p) => p.id === id);
  return person ? person.name : id;
}

function renderRow(row) {
  const { request, clock } = row;
  const open = el('button', { type: 'button', class: 'open-request', title: 'Open the request: events, trace, clocks, actions' },
    el('span', { class: 'request-id', text: `#${request.id} ` }), show(request.title));
  open.addEventListener('click', () => openDetail(request.id));
  const actions = el('td', { class: 'actions-cell' });
  if (can('take') && request.assignee !== app.me.person) {
    const take = el('button', { type: 'button', class: 'act', 'data-action': 'take', text: 'Take', title: `Take #${request.id}: assign it to yourself` });
    take.addEventListener('click', async () => {
      const alert = el('span');
      if (await act(`/v1/requests/${request.id}/events`, { type: 'take' }, alert, take)) return;
      // Kept beside the row across re-renders (the table is redrawn on every change).
      app.rowAlerts.set(request.id, alert.textContent);
      setTimeout(() => { app.rowAlerts.delete(request.id); render(); }, 15000);
      render();
    });
    actions.append(take);
  }
  if (app.rowAlerts.has(request.id)) actions.append(el('span', { class: 'alert', role: 'alert', text: app.rowAlerts.get(request.id) }));
  const tr = el('tr', {
    'data-key': row.key, 'data-request': String(request.id), 'data-metric': clock.metric, 'data-team': request.owner,
    'data-state': row.state, 'data-breached': row.breached ? 'true' : undefined, 'data-priority': request.priority,
    'data-assignee': request.assignee || '', class: app.fresh.has(request.id) ? 'fresh' : '',
  },
  el('td', { class: 'state-cell' }, stateBadge(row.state, row.breached)),
  el('td', { class: 'countdown', 'data-remaining': String(row.remaining), text: countdownText(row) }),
  el('td', { class: 'request-cell' }, open),
  el('td', { class: `priority priority-${request.priority}`, text: show(PRIORITIES[request.priority] || request.priority) }),
  el('td', { class: 'customer-cell', text: show(customerName(request)) }),
  el('td', { class: 'kind-cell', text: show(KINDS[request.kind] || request.kind) }),
  el('td', { class: 'team-cell', text: show(TEAM_NAMES[request.owner] || request.owner) }),
  el('td', { class: 'assignee-cell', text: personName(request.assignee) }),
  el('td', { class: 'metric-cell', text: show(METRICS[clock.metric] || clock.metric) }),
  el('td', { class: 'when', text: show(row.when) }),
  actions);
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
    if (when.textContent !== show(row.when)) when.textContent = show(row.when);
  }
}

// ---- the URL -----------------------------------------------------------------------------

function readUrl() {
  const params = new URLSearchParams(location.search);
  for (const f of FILTERS) app.filters[f] = params.get(f) || '';
  app.sort = parseSort(params.get('sort'));
  app.large = params.get('large') === '1';
  const id = Number(params.get('request'));
  app.detailId = Number.isInteger(id) && id > 0 ? id : null;
}

function writeUrl() {
  const params = new URLSearchParams();
  for (const f of FILTERS) if (app.filters[f]) params.set(f, app.filters[f]);
  if (app.sort) params.set('sort', `${app.sort.key}:${app.sort.dir}`);
  if (app.large) params.set('large', '1');
  if (app.detailId) params.set('request', String(app.detailId));
  const query = params.toString();
  history.replaceState(null, '', location.pathname + (query ? `?${query}` : ''));
}

// The view's rows come from the server, which applies the filters: the rows held narrow at once,
// and the snapshot for the new filters replaces them.
function setFilter(name, value) {
  if (app.filters[name] === value) return;
  app.filters[name] = value;
  viewChanged(name !== 'q');
}

function viewChanged(escalations = true) {
  writeUrl();
  render();
  reloadSnapshot();
  if (escalations) loadEscalations();
}

function reloadSnapshot() {
  loadSnapshot().catch((error) => {
    if (error instanceof Unauthorized) askToken(error.message);
  });
}

// A changed request that matches every filter but the search box's words may match them in its
// body, which only the server reads: the snapshot is asked again, at most every two seconds.
let snapshotTimer = null;
function scheduleSnapshot() {
  if (snapshotTimer) return;
  snapshotTimer = setTimeout(() => { snapshotTimer = null; reloadSnapshot(); }, 2000);
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

// Posts one action with the viewer's token. A refusal's message (and each field's) goes in
// `alert`; resolves to the answer's JSON on success, null on a refusal.
async function act(path, body, alert, button) {
  if (alert) { alert.hidden = true; alert.textContent = ''; }
  if (button) button.disabled = true;
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${app.token}`, 'Content-Type': 'application/json',
        'Idempotency-Key': crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`,
      },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
    let answer = null;
    try { answer = await res.json(); } catch (e) { /* no body */ }
    if (res.ok) return answer || {};
    const error = (answer && answer.error) || {};
    const lines = [show(error.message || `HTTP ${res.status}`)];
    for (const f of error.fields || []) lines.push(`${show(f.field)}: ${show(f.message)}`);
    if (alert) { alert.textContent = lines.join(' — '); alert.hidden = false; }
    return null;
  } catch (error) {
    if (alert) { alert.textContent = `Could not reach the server: ${show(error.message)}`; alert.hidden = false; }
    return null;
  } finally {
    if (button) button.disabled = false;
  }
}

// Which buttons the viewer is shown, by role (the server's action table; it still decides).
function can(action) {
  const role = app.me && app.me.role;
  if (!role) return false;
  if (['take', 'respond', 'pend', 'resolve'].includes(action)) return WORKERS.includes(role);
  if (action === 'assign') return ASSIGNERS.includes(role);
  if (action === 'acknowledge_escalation' || action === 'resolve_escalation') return LADDER_ROLES.includes(role);
  return false;
}

async function loadMe() {
  try {
    const res = await api('/v1/me');
    app.me = res.ok ? await res.json() : null;
  } catch (error) {
    if (error instanceof Unauthorized) throw error;
    app.me = null;
  }
  try {
    const res = await api('/v1/people');
    app.people = res.ok ? (await res.json()).people || [] : [];
  } catch (error) {
    app.people = [];
  }
  const who = $('who');
  if (app.me) who.textContent = `${show(app.me.name || app.me.person)} · ${show(app.me.role)}`;
  who.hidden = !app.me;
}

// The snapshot's query: the page's filters, search words included; the server applies them.
function snapshotQuery() {
  const query = new URLSearchParams();
  for (const f of FILTERS) if (app.filters[f]) query.set(f, f === 'q' ? app.filters.q.slice(0, 200) : app.filters[f]);
  return query;
}

async function loadSnapshot() {
  const asked = ++app.snapshots;
  const query = snapshotQuery().toString();
  const q = app.filters.q;
  const res = await api(`/v1/dashboard/clocks${query ? `?${query}` : ''}`);
  if (asked !== app.snapshots) return;  // the filters changed meanwhile; a newer snapshot follows
  if (!res.ok) throw new Error(`snapshot: HTTP ${res.status}`);
  const snapshot = await res.json();
  if (asked !== app.snapshots) return;
  app.requests = new Map();
  app.calendars = new Map();
  app.anchor = null;
  app.speed = typeof snapshot.clock_speed === 'number' && snapshot.clock_speed > 0 ? snapshot.clock_speed : 1;
  app.requestCounts = Array.isArray(snapshot.request_counts) ? snapshot.request_counts : null;
  observeServerTime(snapshot.now);
  mergeCalendars(snapshot.calendars);
  for (const request of snapshot.requests) applyRequest(request, snapshot.now);
  app.search = q ? { q, ids: new Set(snapshot.requests.map((r) => r.id)) } : null;
  // The snapshot holds the most urgent (matching) open clocks only when there are many.
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

// The team cards' numbers come from the server (the page holds only requests with open clocks,
// and a partial snapshot lacks the earlier state of a request that changes): read again at most
// once a second after changes.
let countsTimer = null;
function scheduleCounts() {
  if (countsTimer) return;
  countsTimer = setTimeout(async () => {
    countsTimer = null;
    try {
      const res = await api('/v1/dashboard/counts');
      if (!res.ok) return;
      const counts = await res.json();
      app.requestCounts = counts.request_counts;
      if (app.partial) app.partial = { counts: counts.counts, total: counts.open_clocks };
      render();
    } catch (error) { /* the next change asks again */ }
  }, 1000);
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
  // The view keeps a request that still matches its filters and takes in one that now does; one
  // that no longer matches leaves it.
  const request = change.request;
  if (!inViewApartFromSearch(request)) {
    app.requests.delete(request.id);
  } else if (!app.filters.q || matchesQuery(request, app.filters.q)) {
    applyRequest(request, change.now);
    if (app.search) app.search.ids.add(request.id);
  } else {
    scheduleSnapshot();
  }
  if (id) app.lastId = id;
  app.fresh.add(change.request.id);
  setTimeout(() => { app.fresh.delete(change.request.id); render(); }, 3000);
  render();
  scheduleCounts();
  if (change.events.some((e) => e.type.startsWith('escalation.') || e.type === 'request.assigned')) loadEscalations();
  if (app.detailId === change.request.id && $('detail').open) loadDetail(change.request.id);
  return null;
}

// The escalations strip: how many unresolved escalations the view holds, and the most urgent
// few (more on "show more"), from the server, which applies the page's filters.
function viewQuery(extra = {}) {
  const query = new URLSearchParams();
  for (const f of ['team', 'customer', 'kind', 'state', 'priority', 'assignee']) if (app.filters[f]) query.set(f, app.filters[f]);
  for (const [k, v] of Object.entries(extra)) query.set(k, String(v));
  return query;
}

async function fetchEscalations(limit) {
  const res = await api(`/v1/dashboard/escalations?${viewQuery({ limit })}`);
  if (!res.ok) return null;
  return res.json();
}

let escalationsAsked = 0;
async function loadEscalations() {
  const asked = ++escalationsAsked;
  let strip = null;
  try {
    strip = await fetchEscalations(Math.min(200, app.escalationLimit));
  } catch (error) {
    if (error instanceof Unauthorized) return;
  }
  if (!strip || asked !== escalationsAsked) return;  // a failed read leaves the strip as it was
  renderEscalations(strip);
}

function escalationLevel(e) {
  const notifications = e.notifications || [];
  const last = notifications[notifications.length - 1];
  return e.level ?? (last ? last.level : 0);
}

function renderEscalations(strip) {
  const items = strip.escalations || [];
  const summary = $('escalations-summary');
  const count = strip.count || 0;
  const levels = new Map();
  for (const e of items) levels.set(escalationLevel(e), (levels.get(escalationLevel(e)) || 0) + 1);
  const top = items.length ? Math.max(...items.map(escalationLevel)) : 0;
  const filtered = ['team', 'customer', 'kind', 'state', 'priority', 'assignee'].some((f) => app.filters[f]);
  summary.textContent = count
    ? `${count} unresolved ${count === 1 ? 'escalation' : 'escalations'}${filtered ? ' in this view' : ''} · ${strip.open || 0} open${top ? ` · up to level ${top}` : ''}`
    : `No unresolved escalations${filtered ? ' in this view' : ''}`;
  $('escalations').dataset.count = String(count);
  const list = $('escalation-list');
  list.replaceChildren(...items.map(renderEscalation));
  const more = $('escalations-more');
  more.hidden = items.length >= count;
  more.textContent = `Show more (${count - items.length} not shown)`;
  $('escalations-less').hidden = app.escalationLimit <= ESCALATIONS_FIRST;
}

function renderEscalation(e) {
  const r = e.request || {};
  const title = r.title || app.requests.get(e.request_id)?.title;
  const button = el('button', { type: 'button', class: 'open-request' },
    el('span', { class: 'request-id', text: `#${e.request_id} ` }), show(title));
  button.addEventListener('click', () => openDetail(e.request_id));
  const level = escalationLevel(e);
  const alert = el('span', { class: 'alert', role: 'alert', hidden: true });
  const buttons = [];
  for (const [type, label] of [['acknowledge_escalation', 'Acknowledge'], ['resolve_escalation', 'Resolve']]) {
    if (!can(type) || (type === 'acknowledge_escalation' && e.state !== 'open')) continue;
    const b = el('button', { type: 'button', class: 'act', 'data-action': type, text: label });
    b.addEventListener('click', async () => {
      if (await act(`/v1/escalations/${encodeURIComponent(e.id)}/events`, { type }, alert, b)) loadEscalations();
    });
    buttons.push(b);
  }
  const notifications = e.notifications || [];
  const last = notifications[notifications.length - 1];
  const who = last && (last.roles || []).length ? `notified ${last.roles.join(', ')}` : '';
  return el('li', { 'data-escalation': e.id, 'data-state': show(e.state), 'data-level': String(level) },
    el('span', { class: 'level', text: level ? `Level ${level}` : 'Not yet notified' }),
    button,
    el('span', { class: 'escalation-facts', text: [show(String(e.ladder || '').replace(/_/g, ' ')), show(e.state), show(r.customer?.name), who].filter((x) => x && x !== '—').join(' · ') }),
    ...buttons, alert);
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
    el('tbody', {}, ...rowsOfCells.map((cells) => el('tr', {}, ...cells.map((c) => el('td', { text: show(c) }))))));
}

// The dialog's actions: what the viewer's role may do (the server decides; a refusal shows its
// reason beside the buttons).
function detailActions(request) {
  const section = el('section', { class: 'detail-section detail-actions', 'aria-label': 'Actions' });
  const alert = el('p', { class: 'alert', role: 'alert', hidden: true, id: 'detail-alert' });
  const done = el('p', { class: 'done', role: 'status', hidden: true });
  const message = el('textarea', { id: 'action-message', rows: 3, placeholder: 'Message (for Respond, Pend, Resolve)' });
  const run = async (body, button, what) => {
    done.hidden = true;
    const answer = await act(`/v1/requests/${request.id}/events`, body, alert, button);
    if (!answer) return;
    message.value = '';
    done.textContent = `${what}: done.`;
    done.hidden = false;
    loadDetail(request.id);
  };
  const buttons = [];
  const button = (action, label, body, what) => {
    if (!can(action)) return;
    const b = el('button', { type: 'button', class: 'act', 'data-action': action, text: label });
    b.addEventListener('click', () => run(body(), b, what));
    buttons.push(b);
  };
  const active = !['resolved', 'closed'].includes(request.status);
  if (active && request.assignee !== app.me?.person) button('take', 'Take', () => ({ type: 'take' }), 'Taken');
  const text = () => message.value.trim();
  const withMessage = (type) => () => (text() ? { type, message: text() } : { type });
  button('respond', 'Respond', withMessage('respond'), 'Responded');
  button('pend', 'Pend on the customer', withMessage('pend'), 'Pending on the customer');
  button('resolve', 'Resolve', withMessage('resolve'), 'Resolved');
  const parts = [el('h3', { text: 'Actions' })];
  if (!buttons.length && !can('assign')) {
    parts.push(el('p', { class: 'hint', text: `A ${show(app.me?.role)} token has no actions here.` }));
    section.append(...parts);
    return section;
  }
  if (can('respond')) parts.push(el('label', { for: 'action-message', class: 'hint', text: 'Message' }), message);
  parts.push(el('div', { class: 'action-row' }, ...buttons));
  if (can('assign') && active) {
    const who = el('select', { id: 'assign-to', 'aria-label': 'Assign to' },
      el('option', { value: '', text: 'Assign to…' }),
      ...app.people.map((p) => el('option', { value: p.id, text: `${show(p.name)}${p.team ? ` (${TEAM_NAMES[p.team] || p.team})` : ''}` })));
    const reason = el('input', { id: 'assign-reason', type: 'text', placeholder: 'Why (required)', 'aria-label': 'Reason for the assignment' });
    const assign = el('button', { type: 'button', class: 'act', 'data-action': 'assign', text: 'Assign' });
    assign.addEventListener('click', () => run({ type: 'assign', assignee: who.value, reason: reason.value.trim() }, assign,
      `Assigned to ${personName(who.value)}`));
    parts.push(el('div', { class: 'action-row' }, who, reason, assign));
  }
  parts.push(alert, done);
  section.append(...parts);
  return section;
}

function detailEscalations(request) {
  const open = (request.escalations || []).filter((e) => e.state !== 'resolved');
  if (!open.length) return null;
  return el('section', { class: 'detail-section' }, el('h3', { text: 'Escalations' }),
    el('ul', { class: 'escalation-items' }, ...open.map((e) => renderEscalation({ ...e, request_id: request.id, request: { title: request.title, customer: request.customer } }))));
}

function renderDetail(request, events) {
  $('detail-title').textContent = `#${request.id} ${show(request.title)}`;
  const customer = request.customer || {};
  const stage = [customer.stage, customer.tier].filter(Boolean).join(', ');
  const facts = [
    ['Customer', `${show(customer.name || customer.id)}${stage ? ` (${stage})` : ''}`],
    ['Kind', KINDS[request.kind] || request.kind], ['Status', request.status],
    ['Team', TEAM_NAMES[request.owner] || request.owner], ['Assignee', personName(request.assignee)],
    ['Priority', PRIORITIES[request.priority] || request.priority], ['Created', request.created_at],
  ];
  const routing = request.routing || {};
  const trace = (routing.trace || []).map((r) => {
    const f = r.failure;
    const line = r.matched ? `+ ${show(r.rule)} matched`
      : `- ${show(r.rule)}: ${f ? `${show(f.field)} ${show(f.op)} ${show(f.expected)} failed (actual: ${show(f.actual)})` : 'no match'}`;
    return el('li', { class: r.matched ? 'matched' : '', text: line });
  });
  // (replaceChildren would write a null as the text "null": el() skips them, so build with it.)
  $('detail-body').replaceChildren(...el('div', {},
    el('dl', { class: 'detail-grid' }, ...facts.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: show(v) })])),
    request.body ? el('p', { class: 'detail-text', text: request.body }) : null,
    detailActions(request),
    detailEscalations(request),
    el('section', { class: 'detail-section' }, el('h3', { text: 'Clocks' }),
      table(['Metric', 'State', 'Left (business)', 'Target', 'Deadline'], (request.clocks || []).map((c) => [
        METRICS[c.metric] || c.metric,
        c.state === 'paused' && c.breached ? 'breached, paused' : c.warned && c.state === 'running' ? 'warning' : c.state,
        c.open ? (c.remaining_seconds >= 0 ? duration(c.remaining_seconds) : `−${duration(c.remaining_seconds)} over`) : '—',
        typeof c.target_seconds === 'number' ? duration(c.target_seconds) : null,
        c.deadline || (c.completed_at ? `done ${c.completed_at}` : null)]))),
    el('section', { class: 'detail-section' }, el('h3', { text: 'Routing' }),
      el('p', { text: `${show(routing.rule)}: ${show(routing.reason)}` }),
      ...(routing.notes || []).map((n) => el('p', { class: 'hint', text: show(n) })),
      el('ol', { class: 'trace' }, ...trace)),
    el('section', { class: 'detail-section' }, el('h3', { text: 'Events' }),
      table(['At', 'Event', 'By'], events.map((e) => [e.at, e.type, e.actor])))).childNodes);
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
    await loadMe();
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
    $('filter-q').focus();
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
  for (const f of FILTERS) if (f !== 'q') $(`filter-${f}`).addEventListener('change', (event) => setFilter(f, event.target.value));
  let typing = null;
  $('filter-q').addEventListener('input', (event) => {
    clearTimeout(typing);
    typing = setTimeout(() => setFilter('q', event.target.value.trim()), 250);
  });
  $('filters').addEventListener('submit', (event) => { event.preventDefault(); setFilter('q', $('filter-q').value.trim()); });
  $('filter-clear').addEventListener('click', () => {
    for (const f of FILTERS) app.filters[f] = '';
    $('filter-q').value = '';
    viewChanged();
  });
  for (const th of document.querySelectorAll('#clocks th[data-sort]')) {
    th.querySelector('button').addEventListener('click', () => setSort(th.dataset.sort));
  }
  $('escalations-more').addEventListener('click', () => { app.escalationLimit += ESCALATIONS_PAGE; loadEscalations(); });
  $('escalations-less').addEventListener('click', () => { app.escalationLimit = ESCALATIONS_FIRST; loadEscalations(); });
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
