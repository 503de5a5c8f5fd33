// Small statistics and formatting helpers shared by the harness (no dependencies).

/** Median of a non-empty list of numbers. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * Summary of the timed rounds: median, min, max and the spread, i.e. half the
 * min–max range relative to the median (so "±2.0%" means every round fell
 * within roughly 2% of the median).
 */
export function summarize(samples) {
  const med = median(samples);
  const min = Math.min(...samples);
  const max = Math.max(...samples);
  const spread = med === 0 ? 0 : (max - min) / 2 / Math.abs(med);
  return { median: med, min, max, spread, samples: [...samples] };
}

const SI = [
  [1e9, 'G'],
  [1e6, 'M'],
  [1e3, 'k'],
];

/** 5_312_000 → "5.31 M"; 812.4 → "812"; 0.0123 → "0.0123". */
export function formatNumber(value) {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  for (const [scale, prefix] of SI) {
    if (abs >= scale) return `${(value / scale).toPrecision(3)} ${prefix}`;
  }
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 1) return value.toPrecision(3);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

export function formatPercent(fraction) {
  return `±${(fraction * 100).toFixed(1)}%`;
}

/** Renders rows (arrays of strings) as a Markdown table: readable in a terminal and pasteable into docs. */
export function markdownTable(header, rows, align) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (s, i) => (align?.[i] === 'right' ? s.padStart(widths[i]) : s.padEnd(widths[i]));
  const line = (cells) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (align?.[i] === 'right' ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
