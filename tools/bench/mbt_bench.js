// moment-business-time 2.0.0 + moment-timezone on the calendar benchmark's workload.
//   node mbt_bench.js DIR N_ADD N_BETWEEN
// Reads DIR/add.csv, DIR/between.csv and DIR/holidays.txt; writes one answer per line to
// DIR/mbt_add.csv and DIR/mbt_between.csv (epoch seconds, business seconds, or the error);
// prints "mbt add RATE ops/s" and "mbt between RATE ops/s" (input and output not timed).
'use strict';
const fs = require('fs');
const moment = require('moment-timezone');
require('moment-business-time');

const [dir, nAdd, nBetween] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const zone = 'America/Los_Angeles';
const pairs = (file, n) =>
  fs.readFileSync(`${dir}/${file}`, 'utf8').trim().split('\n').slice(0, n).map((line) => line.split(',').map(Number));
const holidays = fs.readFileSync(`${dir}/holidays.txt`, 'utf8').trim().split('\n').filter(Boolean);

// The shipped `support` calendar: Mon-Fri 02:00-18:00 plus its holidays.
const day = ['02:00:00', '18:00:00'];
moment.updateLocale('en', {
  workinghours: { 0: null, 1: day, 2: day, 3: day, 4: day, 5: day, 6: null },
  holidays,
});

function timed(rows, op) {
  const out = new Array(rows.length);
  const begin = process.hrtime.bigint();
  for (let i = 0; i < rows.length; i++) {
    try {
      out[i] = op(rows[i]);
    } catch (e) {
      out[i] = `ERROR ${e.constructor.name}: ${e.message}`;
    }
  }
  const elapsed = Number(process.hrtime.bigint() - begin) / 1e9;
  return { out, rate: rows.length / elapsed };
}

const adds = timed(pairs('add.csv', nAdd), ([start, d]) =>
  moment.tz(start * 1000, zone).addWorkingTime(d, 'seconds').unix());
const betweens = timed(pairs('between.csv', nBetween), ([a, b]) =>
  moment.tz(b * 1000, zone).workingDiff(moment.tz(a * 1000, zone), 'seconds'));

fs.writeFileSync(`${dir}/mbt_add.csv`, adds.out.join('\n') + '\n');
fs.writeFileSync(`${dir}/mbt_between.csv`, betweens.out.join('\n') + '\n');
console.log(`mbt add ${adds.rate.toFixed(1)} ops/s (${adds.out.length} pairs)`);
console.log(`mbt between ${betweens.rate.toFixed(1)} ops/s (${betweens.out.length} pairs)`);
