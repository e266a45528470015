// Inline SVG charts for the console (no chart library): a time line, horizontal bars, a heat map.

const ns = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs = {}, text) {
  const node = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function frame(width, height, title) {
  const svg = svgEl('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  svg.append(svgEl('title', {}, title));
  return svg;
}

/** A ceiling that reads well on an axis: 1, 2, 5, 10, 20, 50, … */
export function niceMax(value) {
  if (value <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
  return 10 * power;
}

/** points: [{at: ISO string, total: number}], oldest first. */
export function lineChart(points, { width = 900, height = 170, title = 'per second' } = {}) {
  const pad = { l: 44, r: 10, t: 10, b: 22 };
  const svg = frame(width, height, title);
  const w = width - pad.l - pad.r;
  const h = height - pad.t - pad.b;
  const max = niceMax(Math.max(1, ...points.map((p) => p.total)));
  svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: pad.t + h, x2: pad.l + w, y2: pad.t + h }));
  for (const frac of [0, 0.5, 1]) {
    const y = pad.t + h - frac * h;
    svg.append(svgEl('line', { class: 'axis', x1: pad.l, y1: y, x2: pad.l + w, y2: y, 'stroke-dasharray': frac === 0 ? '' : '3 4' }));
    // Whole numbers only: a scale of 1 has no middle label.
    if (Number.isInteger(max * frac)) svg.append(svgEl('text', { x: pad.l - 6, y: y + 4, 'text-anchor': 'end' }, max * frac));
  }
  if (points.length === 0) {
    svg.append(svgEl('text', { x: pad.l + w / 2, y: pad.t + h / 2, 'text-anchor': 'middle' }, 'waiting for samples…'));
    return svg;
  }
  const step = points.length > 1 ? w / (points.length - 1) : 0;
  const xy = points.map((p, i) => [pad.l + i * step, pad.t + h - (p.total / max) * h]);
  const line = xy.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  svg.append(svgEl('polygon', { class: 'area', points: `${pad.l},${pad.t + h} ${line} ${xy[xy.length - 1][0].toFixed(1)},${pad.t + h}` }));
  svg.append(svgEl('polyline', { class: 'line', points: line }));
  const time = (iso) => new Date(iso).toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai' });
  svg.append(svgEl('text', { x: pad.l, y: height - 6 }, time(points[0].at)));
  svg.append(svgEl('text', { x: pad.l + w, y: height - 6, 'text-anchor': 'end' }, `${time(points[points.length - 1].at)} (Shanghai)`));
  return svg;
}

/** items: [{label, value, decline: boolean}] as horizontal bars. */
export function barChart(items, { width = 460, title = 'bars', labelWidth = 190 } = {}) {
  const row = 24;
  const height = Math.max(1, items.length) * row + 8;
  const svg = frame(width, height, title);
  if (items.length === 0) {
    svg.append(svgEl('text', { x: 4, y: 18 }, 'no answers yet'));
    return svg;
  }
  const max = Math.max(1, ...items.map((i) => i.value));
  const barSpace = width - labelWidth - 60;
  items.forEach((item, i) => {
    const y = 4 + i * row;
    const w = Math.max(2, (item.value / max) * barSpace);
    svg.append(svgEl('text', { x: labelWidth - 6, y: y + 15, 'text-anchor': 'end' }, item.label));
    svg.append(svgEl('rect', { class: item.decline ? 'bar-decline' : 'bar-ok', x: labelWidth, y: y + 3, width: w.toFixed(1), height: row - 8, rx: 3 }));
    svg.append(svgEl('text', { x: labelWidth + w + 6, y: y + 15 }, item.value));
  });
  return svg;
}

function shade(fraction) {
  // From a pale green to the brand green.
  const from = [226, 242, 234];
  const to = [11, 110, 79];
  const c = from.map((f, i) => Math.round(f + (to[i] - f) * fraction));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * rows, cols: labels; cell(row, col) → {count, suppressed} or undefined. Suppressed cells (under
 * the publication minimum) are grey and read "<min".
 */
export function heatMap(rows, cols, cell, { title = 'heat map', cellW = 30, cellH = 24, labelWidth = 110, min = 5, colLabel = (c) => c, empty = 'no data' } = {}) {
  if (rows.length === 0 || cols.length === 0) {
    const note = document.createElement('p');
    note.className = 'note';
    note.textContent = empty;
    return note;
  }
  const top = 28;
  const width = labelWidth + cols.length * cellW + 4;
  const height = top + Math.max(1, rows.length) * cellH + 4;
  const svg = frame(width, height, title);
  // Drawn at its natural size (the panel scrolls), not stretched to the panel's width.
  svg.setAttribute('class', 'chart heat');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  let max = 1;
  for (const r of rows) for (const c of cols) max = Math.max(max, cell(r, c)?.count ?? 0);
  cols.forEach((c, j) => svg.append(svgEl('text', { x: labelWidth + j * cellW + cellW / 2, y: top - 10, 'text-anchor': 'middle' }, colLabel(c))));
  rows.forEach((r, i) => {
    const y = top + i * cellH;
    svg.append(svgEl('text', { x: labelWidth - 6, y: y + cellH / 2 + 4, 'text-anchor': 'end' }, r));
    cols.forEach((c, j) => {
      const x = labelWidth + j * cellW;
      const v = cell(r, c);
      if (!v) {
        svg.append(svgEl('rect', { x: x + 1, y: y + 1, width: cellW - 2, height: cellH - 2, fill: '#f7f9fa' }));
        return;
      }
      if (v.suppressed) {
        svg.append(svgEl('rect', { class: 'suppressed', x: x + 1, y: y + 1, width: cellW - 2, height: cellH - 2 }));
        svg.append(svgEl('text', { class: 'cell-text', x: x + cellW / 2, y: y + cellH / 2 + 4, 'text-anchor': 'middle' }, `<${min}`));
        return;
      }
      const fraction = v.count / max;
      svg.append(svgEl('rect', { x: x + 1, y: y + 1, width: cellW - 2, height: cellH - 2, fill: shade(0.15 + 0.85 * fraction), rx: 2 }));
      svg.append(svgEl('text', { class: `cell-text${fraction > 0.55 ? ' light' : ''}`, x: x + cellW / 2, y: y + cellH / 2 + 4, 'text-anchor': 'middle' }, v.count));
    });
  });
  return svg;
}
