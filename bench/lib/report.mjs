// The object a suite's `run(report)` receives. A suite measures cases with
// `report.measure(...)` (the harness times warm-up + N rounds) or hands in
// samples it timed itself with `report.record(...)` (e.g. latencies gathered
// from a server in a child process). Rows in the same `group` with the same
// `metric` get a ratio against the group's `baseline: true` row.
//
//   export const name = 'ws';
//   export async function run(report) {
//     await report.measure('raw ws', { group: 'echo 100 B', baseline: true, unit: 'msgs/s',
//       ops: report.scale(100_000), setup: connect, fn: (n, conn) => echo(conn, n), teardown: close });
//     await report.measure('libchan', { group: 'echo 100 B', unit: 'msgs/s', … });
//   }
import { formatNumber, formatPercent, summarize } from './stats.mjs';

const TIME_UNITS = { s: 1, ms: 1e3, 'µs': 1e6, us: 1e6, ns: 1e9 };

export class Report {
  /**
   * @param {string} suite  the suite's name
   * @param {{ rounds: number, warmup: number, scale: number, quiet?: boolean }} options
   * @param {(row: object) => void} onRow  receives every finished row (the runner forwards it)
   * @param {(text: string) => void} onNote
   */
  constructor(suite, options, onRow, onNote) {
    this.suite = suite;
    this.options = options;
    this.rows = [];
    this.notes = [];
    this.onRow = onRow;
    this.onNote = onNote;
  }

  /** Scales an operation count for `--quick` runs (never below `min`). */
  scale(ops, min = 1) {
    return Math.max(min, Math.round(ops * this.options.scale));
  }

  /** A line printed under the suite's table (and kept in the JSON). */
  note(text) {
    this.notes.push(text);
    this.onNote?.(text);
  }

  /**
   * Times `fn` for warm-up rounds, then `rounds` timed rounds, and adds a row with the median.
   *
   * spec:
   *   fn(ops, ctx)   does `ops` operations (sync or async). Returns nothing (the harness times the
   *                  call), or a number = milliseconds it timed itself, or { ms, ops }.
   *   ops            operations per round; omit to calibrate: doubled from `calibrateFrom` until one
   *                  round takes ≥ `minRoundMs` (calibration rounds count as warm-up)
   *   minRoundMs     default 250; calibrateFrom default 1000
   *   setup()        untimed, before every round (warm-up too); its result is `ctx`
   *   teardown(ctx)  untimed, after every round
   *   metric         label, default 'throughput' (or 'time per op' with `per`)
   *   unit           default 'ops/s'; with `per: 'µs'` (or 'ns', 'ms', 's') the value is time per op
   *   group, baseline: true   ratio column: value / baseline's value, same group and metric
   *   target         { min } or { max }: the row shows whether the median meets it; or, relative to
   *                  the group's baseline (same metric), { minRatio } or { maxRatio }, e.g. { minRatio: 0.8 }
   *   warmup, rounds override the run's defaults
   */
  async measure(caseName, spec) {
    const warmup = spec.warmup ?? this.options.warmup;
    const rounds = spec.rounds ?? this.options.rounds;
    const perUnit = spec.per;
    if (perUnit !== undefined && !(perUnit in TIME_UNITS)) throw new TypeError(`unknown time unit ${perUnit}`);
    let ops = spec.ops;

    const round = async (n) => {
      const ctx = spec.setup ? await spec.setup() : undefined;
      globalThis.gc?.();
      const t0 = performance.now();
      let result = spec.fn(n, ctx);
      if (result && typeof result.then === 'function') result = await result;
      const t1 = performance.now();
      if (spec.teardown) await spec.teardown(ctx);
      if (typeof result === 'number') return { ms: result, ops: n };
      if (result && typeof result === 'object' && typeof result.ms === 'number') return { ms: result.ms, ops: result.ops ?? n };
      return { ms: t1 - t0, ops: n };
    };

    let warmupsDone = 0;
    if (ops === undefined) {
      const minMs = (spec.minRoundMs ?? 250) * Math.min(1, this.options.scale * 4);
      ops = spec.calibrateFrom ?? 1000;
      for (;;) {
        const r = await round(ops);
        warmupsDone++;
        if (r.ms >= minMs || ops >= 1e9) {
          // Settle on a count that takes about minRoundMs.
          ops = Math.max(1, Math.round(ops * Math.max(1, minMs / Math.max(r.ms, 1e-3))));
          break;
        }
        ops *= r.ms < minMs / 8 ? 8 : 2;
      }
    }
    for (; warmupsDone < warmup; warmupsDone++) await round(ops);

    const samples = [];
    for (let i = 0; i < rounds; i++) {
      const r = await round(ops);
      samples.push(perUnit === undefined ? r.ops / (r.ms / 1e3) : (r.ms / 1e3 / r.ops) * TIME_UNITS[perUnit]);
    }
    return this.record(caseName, {
      metric: spec.metric ?? (perUnit === undefined ? 'throughput' : 'time per op'),
      unit: spec.unit ?? (perUnit === undefined ? 'ops/s' : `${perUnit}/op`),
      better: spec.better ?? (perUnit === undefined ? 'higher' : 'lower'),
      samples,
      ops,
      group: spec.group,
      baseline: spec.baseline,
      target: spec.target,
    });
  }

  /**
   * Adds a row from samples measured by the suite itself (one number per round).
   * spec: { metric, unit, samples, better = 'higher', group, baseline, target, ops }
   * A relative target ({ minRatio } / { maxRatio }) is checked against the baseline row of the same
   * group and metric recorded before this one (and again by withRatios, e.g. in best-of.mjs).
   */
  record(caseName, spec) {
    if (!Array.isArray(spec.samples) || spec.samples.length === 0) throw new TypeError(`${caseName}: samples must be a non-empty array`);
    const s = summarize(spec.samples);
    const better = spec.better ?? 'higher';
    const row = {
      suite: this.suite,
      case: caseName,
      metric: spec.metric ?? 'throughput',
      unit: spec.unit ?? 'ops/s',
      value: s.median,
      min: s.min,
      max: s.max,
      spread: s.spread,
      samples: s.samples,
      rounds: s.samples.length,
      ops: spec.ops,
      better,
      group: spec.group ?? '',
      baseline: spec.baseline === true,
      target: spec.target,
      targetMet: undefined,
    };
    if (row.target !== undefined) {
      const base = this.rows.find((r) => r.baseline && ratioKey(r) === ratioKey(row));
      row.targetMet = meetsTarget(row.value, row.target, base === undefined || base.value === 0 ? null : row.value / base.value);
    }
    this.rows.push(row);
    this.onRow?.(row);
    if (!this.options.quiet) {
      const t = row.targetMet === undefined ? '' : row.targetMet ? '  (target met)' : '  (target MISSED)';
      process.stderr.write(`  · ${caseName} — ${row.metric}: ${formatNumber(row.value)} ${row.unit} ${formatPercent(row.spread)}${t}\n`);
    }
    return row;
  }
}

/** Whether `value` meets `target`; a relative target ({ minRatio, maxRatio }) needs `ratio` (else: not met). */
export function meetsTarget(value, target, ratio = null) {
  if (target.min !== undefined && value < target.min) return false;
  if (target.max !== undefined && value > target.max) return false;
  if (target.minRatio !== undefined && (ratio === null || ratio < target.minRatio)) return false;
  if (target.maxRatio !== undefined && (ratio === null || ratio > target.maxRatio)) return false;
  return true;
}

function ratioKey(r) {
  return `${r.group}\u0000${r.metric}\u0000${r.unit}`;
}

/**
 * Adds `ratio` (value / baseline value, same group and metric) to each row; null when no baseline.
 * Rows with a relative target get `targetMet` re-evaluated against that ratio.
 */
export function withRatios(rows) {
  const base = new Map();
  for (const r of rows) if (r.baseline) base.set(ratioKey(r), r.value);
  return rows.map((r) => {
    const b = base.get(ratioKey(r));
    const ratio = b === undefined || b === 0 ? null : r.value / b;
    const relative = r.target !== undefined && (r.target.minRatio !== undefined || r.target.maxRatio !== undefined);
    return { ...r, ratio, ...(relative ? { targetMet: meetsTarget(r.value, r.target, ratio) } : {}) };
  });
}
