// What the browser tests share: where the server and Chromium are, the tokens, starting the real
// server on a port of its own, launching Chromium, calling the API, and the board fixture's
// config (the layout and actions tests).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const sourceDir = process.env.SWITCHBOARD_SOURCE_DIR || resolve(here, '../..');
export const serverPath = process.env.SWITCHBOARD_SERVER || join(sourceDir, 'build/src/switchboard');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
// Where screenshots go: CTest's binary folder, else build/tests/browser.
export const screenshotDir = process.env.SWITCHBOARD_SCREENSHOT_DIR || join(sourceDir, 'build/tests/browser');

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

export const tokenOf = (role) => `browser-test-token-${role}`;
const sha256 = (text) => createHash('sha256').update(text).digest('hex');

// tokens.toml: one token per name (a role's name, tokenOf(name)); each entry is a role, for the
// person "<role>-person", or {name, role, person}.
export function writeTokens(dir, entries) {
  const tokens = entries.map((e) => (typeof e === 'string' ? { name: e, role: e, person: `${e}-person` } : e));
  writeFileSync(join(dir, 'tokens.toml'), tokens.map(({ name, role, person }) =>
    `[[token]]\nperson = "${person}"\nrole = "${role}"\nsha256 = "${sha256(tokenOf(name))}"\n`).join('\n'));
}

// SWITCHBOARD_TEST_ROUTE_LOG=DIR (tools/dev test sets it): each server's stderr is copied, as it
// comes, to DIR/browser-<test pid>-<n>.log, whose access lines tools/check-openapi-coverage
// matches with the OpenAPI document, as tests/support/server_process does for the C++ tests.
// Appended chunk by chunk, so a server killed when the suite ends has logged all it answered.
let serversStarted = 0;
function routeLogOf() {
  const dir = process.env.SWITCHBOARD_TEST_ROUTE_LOG;
  if (!dir) return null;
  const path = join(dir, `browser-${process.pid}-${serversStarted++}.log`);
  return (chunk) => {
    try { appendFileSync(path, chunk); } catch (error) { /* a missing copy shrinks the coverage, which the check reports */ }
  };
}

// The real server on 127.0.0.1, port 0; `args` adds to its command line (--clock-start ...).
export function startServer(dir, args = []) {
  const log = routeLogOf();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(serverPath, ['--config', join(dir, 'switchboard.toml'), '--db', join(dir, 'switchboard.db'),
      '--listen', '127.0.0.1:0', '--tokens', join(dir, 'tokens.toml'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${err}`)), 30000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/listening on (http:\/\/[^\s]+)/);
      if (match) { clearTimeout(timer); resolvePromise({ child, url: match[1], stderr: () => err }); }
    });
    child.stderr.on('data', (chunk) => {
      err += chunk;
      if (log) log(chunk);
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`the server exited with ${code}: ${err}`)); });
  });
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    // Playwright gives every launch a fresh, empty profile directory (--user-data-dir).
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// The API as `role`: call() throws on a non-2xx answer, answer() returns {status, body}.
export function client(server) {
  async function answer(method, path, body, role = 'ce') {
    const res = await fetch(server.url + path, {
      method,
      headers: { Authorization: `Bearer ${tokenOf(role)}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }
  async function call(method, path, body, role = 'ce') {
    const got = await answer(method, path, body, role);
    if (got.status >= 300) throw new Error(`${method} ${path}: ${got.status} ${JSON.stringify(got.body)}`);
    return got.body;
  }
  const customerId = (name) => name.toLowerCase().replace(/[^a-z]+/g, '-');
  function file(customer, title, { kind = 'troubleshooting', stage = 'prospect', tier, priority = 'normal', body = '' } = {}) {
    return call('POST', '/v1/requests', {
      kind, title, body, priority, source: 'api',
      customer: { id: customerId(customer), name: customer, stage, ...(tier ? { tier } : {}) },
    });
  }
  return { answer, call, file, customerId };
}

// The board fixture's config: the shipped rules; "fast" (prospects: breach in 6 s, so an
// escalation opens), "warns" (standard tier: warns after 3.6 s, breaches after an hour),
// pre-sales on support hours, enterprise and triage on 24x7; an SLA-breach ladder. With
// `people`, a directory: se-person and se-lead (who leads SE) in SE, ce-person in CE,
// head_of_cs-person and viewer-person without a team.
export function writeBoardConfig(dir, { people = false } = {}) {
  const rules = join(sourceDir, 'rules/routing.toml');
  const directory = people ? `
[[people]]
id = "se-person"
name = "Sam Engineer"
roles = ["se"]
team = "se"
calendar = "24x7"

[[people]]
id = "se-lead"
name = "Lee Lead"
roles = ["se"]
team = "se"
leads = ["se"]
calendar = "24x7"

[[people]]
id = "ce-person"
name = "Cam Customer-Engineer"
roles = ["ce"]
team = "ce"
calendar = "24x7"

[[people]]
id = "head_of_cs-person"
name = "Hana Head"
roles = ["head_of_cs"]
calendar = "24x7"

[[people]]
id = "viewer-person"
name = "Vic Viewer"
roles = ["viewer"]
calendar = "24x7"
` : '';
  writeFileSync(join(dir, 'switchboard.toml'), `
[server]
rules = ${JSON.stringify(rules)}

[customers]
tiers = ["standard", "premium", "enterprise"]

[calendars.24x7]
zone = "UTC"
shifts = [{ days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], open = "00:00", close = "24:00" }]

[calendars.support]
zone = "America/Los_Angeles"
shifts = [{ days = ["mon", "tue", "wed", "thu", "fri"], open = "02:00", close = "18:00" }]

[[sla.policy]]
name = "fast"
stages = ["prospect"]
kinds = ["troubleshooting"]
calendar = "24x7"
metrics = [
  { metric = "first_response", target = "6s", warning = 0.5 },
  { metric = "resolution", target = "1h" },
]

[[sla.policy]]
name = "warns"
stages = ["production"]
tiers = ["standard"]
kinds = ["troubleshooting"]
calendar = "24x7"
metrics = [{ metric = "first_response", target = "1h", warning = 0.001 }]

[[sla.policy]]
name = "pre-sales"
stages = ["trial"]
kinds = ["troubleshooting"]
calendar = "support"
metrics = [{ metric = "first_response", target = "1h" }]

[[sla.policy]]
name = "enterprise"
stages = ["production"]
tiers = ["enterprise", "premium"]
kinds = ["troubleshooting"]
calendar = "24x7"
metrics = [
  { metric = "first_response", target = "4h" },
  { metric = "resolution", target = "24h", pause_on = ["pending_customer"] },
]

[[sla.policy]]
name = "triage"
kinds = ["feature_request", "how_to"]
calendar = "24x7"
metrics = [{ metric = "first_response", target = "8h" }]

[[escalation.ladder]]
name = "sla_breach"
calendar = "24x7"
repeat_every = "4h"
levels = [
  { after = "0s", notify = ["head_of_cs"] },
  { after = "2m", notify = ["vp_technical_success"] },
]
${directory}`);
  writeTokens(dir, ['viewer', 'ce', 'se', 'head_of_cs', ...(people ? [{ name: 'se-lead', role: 'se', person: 'se-lead' }] : [])]);
}

// Waits until `check` returns something truthy (polling every 50 ms), or fails after `ms`.
export async function eventually(check, ms = 5000, what = 'a condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
