#!/usr/bin/env node
// Merges several `bench/run.mjs --json` outputs into one set of tables holding, for
// every row, the best median over the runs (highest for throughput, lowest for
// time) — the numbers least disturbed by other work on a shared machine. Ratios
// are recomputed from those best values.
//
//   node bench/run.mjs --json /tmp/b1.json; node bench/run.mjs --json /tmp/b2.json
//   node bench/best-of.mjs /tmp/b1.json /tmp/b2.json
import { readFileSync } from 'node:fs';
import { withRatios } from './lib/report.mjs';
import { renderTable } from './lib/table.mjs';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node bench/best-of.mjs run1.json [run2.json …]');
  process.exit(2);
}
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
const suites = new Map(); // name → Map(key → { row, runs })
for (const run of runs) {
  for (const suite of run.suites) {
    if (!suites.has(suite.name)) suites.set(suite.name, new Map());
    const rows = suites.get(suite.name);
    for (const row of suite.rows) {
      const key = `${row.group}\u0000${row.case}\u0000${row.metric}`;
      const prev = rows.get(key);
      const better = !prev || (row.better === 'lower' ? row.value < prev.row.value : row.value > prev.row.value);
      rows.set(key, { row: better ? row : prev.row, runs: (prev?.runs ?? 0) + 1 });
    }
  }
}
for (const [name, rows] of suites) {
  console.log(`\n## ${name}\n`);
  console.log(renderTable(withRatios([...rows.values()].map(({ row }) => ({ ...row, targetMet: row.target === undefined ? undefined : row.targetMet })))));
  const counts = new Set([...rows.values()].map((r) => r.runs));
  console.log(`\n_Best median of ${[...counts].join('/')} runs per row; spread is that run's._`);
}
console.log('\n## Runs\n');
for (const [i, run] of runs.entries()) {
  const m = run.machine;
  console.log(`- ${files[i]}: ${run.date}, code ${run.revision ?? 'unknown'}, node ${m.node}, ${m.cpu} × ${m.cores}, load ${m.loadavg.join('/')} → ${m.loadavgAtEnd?.join('/') ?? '?'}`);
}
