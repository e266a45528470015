// The console's charts, drawn with uPlot (served from this origin, /ui/vendor/): time lines and
// per-hour lines with axes, units and legends, and horizontal bars whose labels are measured so that
// none is clipped. Each chart follows its panel's width (phone too) and is updated in place, and
// carries its figures as a table for screen readers (a canvas has no text).
import uPlot from '../vendor/uPlot.esm.js';
import { clockTime } from './format.js';

const palette = ['#0b6e4f', '#c8553d', '#2f5d8a', '#b8860b', '#6a4c93', '#1b998b', '#8d5524', '#d1495b', '#3d405b', '#5c8001'];
const axisStroke = '#4a5560';
const gridStroke = 'rgba(0,0,0,0.08)';
const font = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", sans-serif';
const labelFont = 'bold 12px system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans CJK SC", sans-serif';
/** Bar rows of a horizontal bar chart, in CSS pixels. */
const barRowPx = 26;
const chartHeightPx = 220;
const phonePx = 600;

/** Height of a horizontal axis's tick labels, in CSS pixels. */
const tickTextPx = 18;

/**
 * An axis's size from its tick labels, so that no label is cut: a vertical axis as wide as its
 * longest label (uPlot measures in device pixels), a horizontal one a line of text high.
 */
function fitSize(self, values, axisIdx, cycleNum) {
  const axis = self.axes[axisIdx];
  if (cycleNum > 1) return axis._size;
  let size = axis.ticks.size + axis.gap;
  if (axis.side === 0 || axis.side === 2) return size + tickTextPx;
  const longest = (values ?? []).reduce((a, v) => (String(v).length > a.length ? String(v) : a), '');
  if (longest) {
    self.ctx.font = axis.font[0];
    size += self.ctx.measureText(longest).width / devicePixelRatio;
  }
  return Math.ceil(size);
}

function axis(extra) {
  return { stroke: axisStroke, font, labelFont, grid: { stroke: gridStroke, width: 1 }, ticks: { stroke: gridStroke, width: 1 }, size: fitSize, ...extra };
}

/** A chart in a container: created on first data, then data replaced and width followed. */
class Chart {
  constructor(container, build) {
    this.container = container;
    this.build = build;
    this.plot = null;
    this.key = '';
    this.box = document.createElement('div');
    this.table = document.createElement('table');
    this.table.className = 'sr-only';
    container.replaceChildren(this.box, this.table);
    new ResizeObserver(() => this.fit()).observe(container);
  }

  /** The chart's figures as a table: caption, column heads, rows of cells. */
  describe({ caption, head, rows }) {
    const tr = (cells, tag) => {
      const row = document.createElement('tr');
      for (const c of cells) {
        const cell = document.createElement(tag);
        cell.textContent = String(c);
        if (tag === 'th') cell.scope = 'col';
        row.append(cell);
      }
      return row;
    };
    const cap = document.createElement('caption');
    cap.textContent = caption;
    this.table.replaceChildren(cap, tr(head, 'th'), ...rows.map((r) => tr(r, 'td')));
  }

  width() {
    return Math.max(200, Math.floor(this.container.clientWidth));
  }

  /** key: what the chart's shape depends on (series, labels); a change rebuilds it. */
  show(key, data, heightPx, summary) {
    this.heightPx = heightPx;
    this.describe(summary);
    if (this.plot && key === this.key) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.box.replaceChildren();
    this.key = key;
    // The legend names each series and its colour; values stay on the axes (no hover needed).
    this.plot = new uPlot({ legend: { live: false }, ...this.build(), width: this.width(), height: heightPx }, data, this.box);
  }

  message(text) {
    this.plot?.destroy();
    this.plot = null;
    this.key = '';
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = text;
    this.box.replaceChildren(note);
    this.table.replaceChildren();
  }

  fit() {
    if (this.plot && this.plot.width !== this.width()) this.plot.setSize({ width: this.width(), height: this.heightPx });
  }
}

/** Authorizations per second, approved and declined, over the last minutes (Shanghai clock). */
export function rateChart(container) {
  const chart = new Chart(container, () => ({
    title: 'Authorizations per second',
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    series: [
      { label: 'time (Shanghai)', value: (_u, v) => (v == null ? '—' : clockTime(v * 1000)) },
      { label: 'approved / s', stroke: palette[0], fill: 'rgba(11,110,79,0.12)', width: 2, points: { show: false } },
      { label: 'declined / s', stroke: palette[1], width: 2, points: { show: false } },
    ],
    axes: [
      // Whole seconds only, and far enough apart that no two labels touch.
      axis({ label: 'time (Shanghai)', space: 90, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600], values: (_u, splits) => splits.map((s) => clockTime(s * 1000)) }),
      axis({ label: 'authorizations / s', values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) }),
    ],
  }));
  return (samples) => {
    if (samples.length === 0) return chart.message('Waiting for the first one-second samples…');
    const xs = samples.map((p) => Date.parse(p.at) / 1000);
    const approved = samples.map((p) => p.byCode?.['00'] ?? 0);
    const declined = samples.map((p, i) => p.total - approved[i]);
    const last = samples.length - 1;
    chart.show('rate', [xs, approved, declined], chartHeightPx, {
      caption: 'Authorizations per second, latest sample',
      head: ['time (Shanghai)', 'approved / s', 'declined / s'],
      rows: [[clockTime(xs[last] * 1000), approved[last], declined[last]]],
    });
  };
}

/** One line per route over the hours of a business day (04:00 to 03:00); null where suppressed. */
export function hourlyChart(container, { unit }) {
  let labels = [];
  let names = [];
  const chart = new Chart(container, () => ({
    title: 'Riders per route and hour',
    scales: { x: { time: false, range: [0, 23] }, y: { range: (_u, _min, max) => [0, Math.max(5, Math.ceil(max * 1.1))] } },
    series: [
      { label: 'hour (Shanghai)', value: (_u, v) => (v == null ? '—' : labels[v] ?? '') },
      ...names.map((n, i) => ({ label: n, stroke: palette[i % palette.length], width: 2, spanGaps: false, value: (_u, v) => (v == null ? '—' : `${v} ${unit}`) })),
    ],
    axes: [
      axis({ label: 'hour of the business day (Shanghai)', splits: () => Array.from({ length: 24 }, (_, i) => i).filter((i) => i % (container.clientWidth < phonePx ? 4 : 2) === 0), values: (_u, splits) => splits.map((s) => labels[s] ?? '') }),
      axis({ label: `${unit} per hour` }),
    ],
  }));
  /** series: [{name, values: (number|null)[24]}], hourLabels: 24 labels; null is a suppressed value (under `min`). */
  return (series, hourLabels, emptyText, min) => {
    if (series.length === 0) return chart.message(emptyText);
    labels = hourLabels;
    names = series.map((s) => s.name);
    // The tick density depends on the width: rebuilt when the panel crosses the phone width.
    const rows = series.flatMap((s) => s.values.map((v, i) => [s.name, hourLabels[i], v === null ? `<${min}` : v]).filter((r) => r[2] !== 0));
    chart.show(`${names.join('|')}#${container.clientWidth < phonePx}`, [hourLabels.map((_, i) => i), ...series.map((s) => s.values)], chartHeightPx + 40, {
      caption: `${unit} per route and hour`,
      head: ['route', 'hour', unit],
      rows,
    });
  };
}

/** Horizontal bars, one per labelled item, the label axis sized to its longest label. */
export function barsChart(container, { title, valueLabel }) {
  let labels = [];
  const chart = new Chart(container, () => ({
    title,
    cursor: { points: { show: false } },
    scales: { x: { time: false, ori: 1, dir: 1, range: () => [-0.5, labels.length - 0.5] }, y: { ori: 0, range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.1))] } },
    series: [
      { label: 'item', value: (_u, v) => (v == null ? '—' : labels[v] ?? '') },
      { label: valueLabel, stroke: palette[0], fill: 'rgba(11,110,79,0.75)', width: 1, paths: uPlot.paths.bars({ size: [0.7, 22] }), points: { show: false } },
    ],
    axes: [
      axis({ side: 3, grid: { show: false }, splits: () => labels.map((_, i) => i), values: () => labels }),
      axis({ side: 2, label: valueLabel, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? String(s) : '')) }),
    ],
  }));
  /** items: [{label, value}] */
  return (items, emptyText) => {
    if (items.length === 0) return chart.message(emptyText);
    labels = items.map((i) => i.label);
    chart.show(labels.join('|'), [items.map((_, i) => i), items.map((i) => i.value)], items.length * barRowPx + 90, {
      caption: title,
      head: ['', valueLabel],
      rows: items.map((i) => [i.label, i.value]),
    });
  };
}
