// json-rules-engine (npm) running the shipped routing rules, for tools/bench/rules.sh.
//
//   node jre_bench.js RULES.toml WORKDIR PASSES
//
// Translates RULES.toml to json-rules-engine rules mechanically (so the two cannot drift): each
// [[rule]] becomes a rule whose priority falls with its position (first match wins, as in
// Switchboard), `when` groups become `all`/`any`, each test {field, op, value} a condition on
// the fact named by the field; the ops without a built-in operator (contains, contains_any,
// present, empty: text compared ignoring case, `text` meaning title or body) are custom
// operators. [fallback] decides when no rule fires. Anything in the TOML this translation does
// not know is an error, never silently dropped.
//
// Reads WORKDIR/requests.jsonl (written by rules_bench), routes every request PASSES times (one
// engine.run per request, as a server would), prints "jre <requests routed per second>" and
// writes WORKDIR/jre.owners (one team a line).
'use strict';
const fs = require('fs');
const path = require('path');
const { parse } = require('smol-toml');
const { Engine } = require('json-rules-engine');

const [rulesPath, work, passesText] = process.argv.slice(2);
const passes = Math.max(1, parseInt(passesText || '1', 10));
const doc = parse(fs.readFileSync(rulesPath, 'utf8'));

const fields = new Set(['kind', 'customer.stage', 'customer.tier', 'customer.id', 'source', 'priority',
                        'use_case', 'title', 'body', 'text']);
const builtin = { equals: 'equal', not_equals: 'notEqual', in: 'in', not_in: 'notIn' };
const custom = { contains: 'containsText', contains_any: 'containsAnyText', present: 'present', empty: 'empty' };

function translate(node, where) {
  if (node.all || node.any) {
    const key = node.all ? 'all' : 'any';
    if (Object.keys(node).length !== 1) throw new Error(`${where}: unknown keys ${Object.keys(node)}`);
    return { [key]: node[key].map((member, i) => translate(member, `${where}.${key}[${i}]`)) };
  }
  const { field, op, value } = node;
  if (!fields.has(field)) throw new Error(`${where}: unknown field ${field}`);
  const operator = builtin[op] || custom[op];
  if (!operator) throw new Error(`${where}: unknown op ${op}`);
  if (op === 'contains') return { fact: field, operator, value: [String(value).toLowerCase()] };
  if (op === 'contains_any') return { fact: field, operator, value: value.map((v) => String(v).toLowerCase()) };
  if (op === 'present' || op === 'empty') return { fact: field, operator, value: true };
  return { fact: field, operator, value };
}

const engine = new Engine([], { allowUndefinedFacts: false });
// Text facts are arrays of the folded strings they cover (text: title and body).
const texts = (fact) => (Array.isArray(fact) ? fact : [fact]);
engine.addOperator('containsText', (fact, needles) => texts(fact).some((t) => t.includes(needles[0])));
engine.addOperator('containsAnyText', (fact, needles) => texts(fact).some((t) => needles.some((n) => t.includes(n))));
engine.addOperator('present', (fact) => texts(fact).some((t) => t !== ''));
engine.addOperator('empty', (fact) => texts(fact).every((t) => t === ''));

const rules = doc.rule || [];
rules.forEach((rule, index) => {
  const when = rule.when.all || rule.when.any ? rule.when : { all: [rule.when] };
  engine.addRule({
    name: rule.name,
    priority: rules.length - index,
    conditions: translate(when, `rule ${rule.name}.when`),
    event: { type: 'route', params: { owner: rule.then.owner, rule: rule.name } },
  });
});
if (!doc.fallback || !doc.fallback.then || !doc.fallback.then.owner) throw new Error('no [fallback] owner');
const fallbackOwner = doc.fallback.then.owner;
// First match: stop lower-priority rules once one fires.
engine.on('success', (event, almanac, ruleResult) => { engine.stop(); });

const requests = fs.readFileSync(path.join(work, 'requests.jsonl'), 'utf8').split('\n').filter((l) => l)
  .map((l) => JSON.parse(l));
// The facts of one request, folded per evaluation as Switchboard folds per evaluation.
function factsOf(r) {
  const title = r.title.toLowerCase();
  const body = r.body.toLowerCase();
  return {
    kind: r.kind, 'customer.stage': r.customer.stage, 'customer.tier': r.customer.tier, 'customer.id': r.customer.id,
    source: r.source, priority: r.priority, use_case: r.use_case, title, body, text: [title, body],
  };
}

async function route(r) {
  const { results } = await engine.run(factsOf(r));
  let best = null;
  for (const result of results) if (!best || result.priority > best.priority) best = result;
  return best ? best.event.params.owner : fallbackOwner;
}

(async () => {
  const owners = new Array(requests.length);
  const started = process.hrtime.bigint();
  for (let pass = 0; pass < passes; ++pass)
    for (let i = 0; i < requests.length; ++i) owners[i] = await route(requests[i]);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(`jre ${(requests.length * passes / seconds).toFixed(1)}`);
  fs.writeFileSync(path.join(work, 'jre.owners'), owners.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
