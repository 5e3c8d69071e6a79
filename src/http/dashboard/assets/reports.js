// The SLA reports page: two charts from GET /v1/reports/sla, drawn with the vendored uPlot
// (uplot.min.js, served by the binary: no CDN, the page works offline), each with a table of the
// same numbers beneath it (readable without the chart, and what the browser test checks).
// - The token is the dashboard's (sessionStorage, same key), sent as a Bearer header.
// - The range is [from, to) in dates of the chosen time zone, kept in the URL; by default the
//   12 weeks up to today.
// - Charts are drawn on <canvas>; uPlot sets styles through CSSOM only, which the page's CSP
//   (style-src 'self') allows.
'use strict';

const TOKEN_KEY = 'switchboard.token';
const DAY = 24 * 3600 * 1000;
const $ = (id) => document.getElementById(id);

const state = { token: sessionStorage.getItem(TOKEN_KEY) || '', charts: [] };

// Every text shown goes through this: nothing reads "null" or "undefined".
const show = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

const breachRate = (row) => (row.met + row.breached > 0 ? (100 * row.breached) / (row.met + row.breached) : null);
const percent = (v) => (v === null || v === undefined ? '—' : `${v.toFixed(1)} %`);

const isoDate = (d) => d.toISOString().slice(0, 10);

function readUrl() {
  const params = new URLSearchParams(location.search);
  const today = new Date();
  const to = params.get('to') || isoDate(new Date(today.getTime() + DAY));
  const from = params.get('from') || isoDate(new Date(Date.parse(`${to}T00:00:00Z`) - 84 * DAY));
  let zone = 'UTC';
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'; } catch (e) { /* keep UTC */ }
  $('from').value = from;
  $('to').value = to;
  $('tz').value = params.get('tz') || zone;
}

function writeUrl() {
  const params = new URLSearchParams({ from: $('from').value, to: $('to').value, tz: $('tz').value });
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

const reportPath = (groupBy, extra = {}) =>
  `/v1/reports/sla?${new URLSearchParams({ from: $('from').value, to: $('to').value, tz: $('tz').value, group_by: groupBy, ...extra })}`;

class Unauthorized extends Error {}

async function api(path) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` }, cache: 'no-store' });
  if (res.status === 401) {
    let message = 'the server refused this token';
    try { message = (await res.json()).error.message; } catch (e) { /* keep the default */ }
    throw new Unauthorized(message);
  }
  if (!res.ok) {
    let message = `HTTP ${res.status}`;
    try {
      const error = (await res.json()).error;
      message = [error.message, ...(error.fields || []).map((f) => `${f.field}: ${f.message}`)].join('; ');
    } catch (e) { /* keep the status */ }
    throw new Error(message);
  }
  return res;
}

function fillTable(table, rows, total) {
  const body = table.tBodies[0];
  body.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const text of cells) {
      const td = document.createElement('td');
      td.textContent = show(text);
      tr.append(td);
    }
    return tr;
  }));
  table.querySelector('tfoot')?.remove();
  if (total) {
    const foot = table.createTFoot();
    const tr = foot.insertRow();
    for (const text of total) {
      const td = document.createElement('td');
      td.textContent = show(text);
      tr.append(td);
    }
  }
}

// The Monday (ms since the epoch, 00:00 UTC of that date) of ISO week `key` ("2026-W48"); null
// for another shape. Week 1 is the week that holds 4 January.
function mondayOfIsoWeek(key) {
  const match = /^(\d{4})-W(\d{2})$/.exec(key || '');
  if (!match) return null;
  const jan4 = Date.UTC(Number(match[1]), 0, 4);
  return jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY + (Number(match[2]) - 1) * 7 * DAY;
}

// The ISO week key of the week that begins on Monday `monday` (as mondayOfIsoWeek gives it): the
// year is its Thursday's.
function isoWeekKey(monday) {
  const year = new Date(monday + 3 * DAY).getUTCFullYear();
  const week = Math.round((monday - mondayOfIsoWeek(`${year}-W01`)) / (7 * DAY)) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

// The report's weeks with the weeks between its first and last that it leaves out (no clock
// started in them) as rows of zeros: a chart that put W10 beside W49 read as two weeks in a row.
// Each row gets `monday`, its Monday's date. Weeks before the first or after the last with a
// clock are not added.
function withEmptyWeeks(groups) {
  const sorted = [...groups].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const mondays = sorted.map((g) => mondayOfIsoWeek(g.key));
  if (mondays.some((m) => m === null)) return groups;
  const byKey = new Map(sorted.map((g) => [g.key, g]));
  const rows = [];
  for (let monday = mondays[0]; sorted.length > 0 && monday <= mondays[mondays.length - 1]; monday += 7 * DAY) {
    const key = isoWeekKey(monday);
    rows.push({ monday: isoDate(new Date(monday)), ...(byKey.get(key) ?? { key, week_start: null, clocks_started: 0, met: 0, breached: 0, open: 0 }) });
  }
  return rows;
}

// A bar chart of `series` over categorical x (0..labels.length-1) in `target`.
function barChart(target, xLabel, labels, series, yLabel, yValue) {
  const width = Math.max(320, Math.min(target.clientWidth || 900, 1200));
  const count = series.length;
  const opts = {
    width,
    height: 240,
    legend: { show: true },
    cursor: { show: true, drag: { x: false, y: false } },
    scales: { x: { time: false, range: [-0.5, Math.max(labels.length, 1) - 0.5] }, y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [
      { splits: () => labels.map((_, i) => i), values: (u, splits) => splits.map((i) => labels[i] ?? '') },
      { label: yLabel, values: (u, splits) => splits.map(yValue), size: 70 },
    ],
    series: [
      { label: xLabel, value: (u, i) => (i === null ? '—' : labels[i] ?? '—') },
      ...series.map((s, i) => ({
        label: s.label,
        stroke: s.color,
        fill: s.fill,
        width: 1,
        points: { show: false },
        value: (u, v) => (v === null ? '—' : yValue(v)),
        // One bar centred on its category, or two side by side (left of it, right of it).
        paths: uPlot.paths.bars({ size: [count === 1 ? 0.6 : 0.4, 80], align: count === 1 ? 0 : (i === 0 ? -1 : 1) }),
      })),
    ],
  };
  const data = [labels.map((_, i) => i), ...series.map((s) => s.values)];
  target.replaceChildren();
  return new uPlot(opts, data, target);
}

async function load() {
  $('range-error').textContent = '';
  writeUrl();
  $('csv').href = reportPath('team', { format: 'csv' });
  $('status').textContent = '… Loading';
  let weeks, teams;
  try {
    [weeks, teams] = await Promise.all([
      api(reportPath('week')).then((r) => r.json()),
      api(reportPath('team')).then((r) => r.json()),
    ]);
  } catch (error) {
    if (error instanceof Unauthorized) return askToken(`The server refused this token (${error.message}). Enter another.`);
    $('status').textContent = '';
    $('range-error').textContent = `⚠ ${error.message}`;
    return;
  }
  for (const chart of state.charts) chart.destroy();
  state.charts = [];

  const everyWeek = withEmptyWeeks(weeks.groups);
  fillTable($('breach-table'), everyWeek.map((g) => [g.key, g.week_start ? g.week_start.slice(0, 10) : g.monday,
    g.clocks_started, g.met, g.breached, g.open, percent(breachRate(g))]),
    ['Total', null, weeks.total.clocks_started, weeks.total.met, weeks.total.breached, weeks.total.open, percent(breachRate(weeks.total))]);
  state.charts.push(barChart($('breach-chart'), 'Week', everyWeek.map((g) => g.key),
    [{ label: 'Breach rate', color: '#d55e00', fill: 'rgba(213, 94, 0, 0.55)', values: everyWeek.map(breachRate) }],
    'breached', (v) => `${Math.round(v)} %`));

  const fr = (g) => g.first_response;
  const paused = (g) => (g.paused.count > 0 ? duration(g.paused.total_seconds) : null);
  fillTable($('response-table'), teams.groups.map((g) => [g.key.toUpperCase(), fr(g).count, duration(fr(g).median_seconds),
    duration(fr(g).p90_seconds), percent(g.percent_met), paused(g)]),
    ['Total', fr(teams.total).count, duration(fr(teams.total).median_seconds), duration(fr(teams.total).p90_seconds),
      percent(teams.total.percent_met), paused(teams.total)]);
  const minutes = (s) => (s === null || s === undefined ? null : s / 60);
  state.charts.push(barChart($('response-chart'), 'Team', teams.groups.map((g) => g.key.toUpperCase()), [
    { label: 'Median', color: '#0072b2', fill: 'rgba(0, 114, 178, 0.6)', values: teams.groups.map((g) => minutes(fr(g).median_seconds)) },
    { label: '90th percentile', color: '#e69f00', fill: 'rgba(230, 159, 0, 0.6)', values: teams.groups.map((g) => minutes(fr(g).p90_seconds)) },
  ], 'minutes', (v) => `${Math.round(v * 10) / 10} min`));
  $('status').textContent = `${weeks.from.slice(0, 10)} to ${weeks.to.slice(0, 10)} (${weeks.tz})`;
  document.body.dataset.loaded = String(Date.now());
}

// The CSV link: the API needs the token, which a plain link cannot send, so the click fetches
// the CSV and hands the browser a file; the href stays the endpoint's address.
async function downloadCsv(event) {
  event.preventDefault();
  try {
    const res = await api($('csv').getAttribute('href'));
    const blob = await res.blob();
    const name = (res.headers.get('Content-Disposition') || '').match(/filename="([^"]+)"/)?.[1] || 'sla.csv';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  } catch (error) {
    $('range-error').textContent = `⚠ ${error.message}`;
  }
}

function askToken(message) {
  state.token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('main').hidden = true;
  $('token-panel').hidden = false;
  $('token-message').textContent = message;
  $('token-input').focus();
}

function start() {
  if (!state.token) return askToken('The reports need an API token: no token has been given in this tab yet.');
  $('token-panel').hidden = true;
  $('main').hidden = false;
  return load();
}

function init() {
  readUrl();
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.token = $('token-input').value.trim();
    $('token-input').value = '';
    if (!state.token) return;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    start();
  });
  $('range').addEventListener('submit', (event) => { event.preventDefault(); load(); });
  $('csv').addEventListener('click', downloadCsv);
  start();
}

init();
