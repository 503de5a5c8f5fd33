import { formatNumber, formatPercent, markdownTable } from './stats.mjs';

/** One suite's rows (with `ratio`, see withRatios) as a Markdown table. */
export function renderTable(rows) {
  const hasGroups = rows.some((r) => r.group);
  const hasRatio = rows.some((r) => r.ratio !== null);
  const hasTarget = rows.some((r) => r.target !== undefined);
  const header = [...(hasGroups ? ['group'] : []), 'case', 'metric', 'value', 'unit', 'spread'];
  const align = [...(hasGroups ? ['left'] : []), 'left', 'left', 'right', 'left', 'right'];
  if (hasRatio) header.push('vs baseline'), align.push('right');
  if (hasTarget) header.push('target'), align.push('left');
  const body = rows.map((r) => {
    const cells = [...(hasGroups ? [r.group] : []), r.baseline ? `${r.case} (baseline)` : r.case, r.metric, formatNumber(r.value), r.unit, formatPercent(r.spread)];
    if (hasRatio) cells.push(r.ratio === null ? '' : `${r.ratio.toFixed(2)}×`);
    if (hasTarget) {
      if (r.target === undefined) cells.push('');
      else {
        const parts = [];
        if (r.target.min !== undefined) parts.push(`≥ ${formatNumber(r.target.min)}`);
        if (r.target.max !== undefined) parts.push(`≤ ${formatNumber(r.target.max)}`);
        if (r.target.minRatio !== undefined) parts.push(`≥ ${r.target.minRatio.toFixed(2)}×`);
        if (r.target.maxRatio !== undefined) parts.push(`≤ ${r.target.maxRatio.toFixed(2)}×`);
        cells.push(`${parts.join(', ')} ${r.targetMet ? '✓ met' : '✗ missed'}`);
      }
    }
    return cells;
  });
  return markdownTable(header, body, align);
}
