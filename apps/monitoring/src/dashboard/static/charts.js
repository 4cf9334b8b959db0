// Rolling line charts as inline SVG, drawn by hand: no library, no build step.
(function () {
  'use strict';

  const SVG_NS = 'http://www.w3.org/2000/svg';
  const PALETTE = ['#2563eb', '#16a34a', '#db2777', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#4b5563', '#65a30d', '#9333ea'];
  const HEIGHT = 150;
  const MARGIN = { left: 60, right: 10, top: 8, bottom: 18 };
  /** A gap longer than this many sample intervals breaks the line instead of bridging it. */
  const GAP_INTERVALS = 4;
  const colorOfName = new Map();

  function colorFor(name) {
    if (!colorOfName.has(name)) colorOfName.set(name, PALETTE[colorOfName.size % PALETTE.length]);
    return colorOfName.get(name);
  }

  function svg(name, attrs, parent) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (parent) parent.appendChild(node);
    return node;
  }

  function html(name, className, parent, text) {
    const node = document.createElement(name);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  /** The smallest 1, 2, 2.5 or 5 times a power of ten at or above v. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * power >= v) return m * power;
    return 10 * power;
  }

  function clock(ms) {
    const d = new Date(ms);
    return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
  }

  /**
   * Draws series of [timeMs, value] points over the last windowMs into container.
   * options: { series: [{ name, points }], nowMs, windowMs, intervalMs, format(value), empty }
   */
  function draw(container, options) {
    container.textContent = '';
    const series = options.series.filter((s) => s.points.length > 0);
    const width = Math.max(200, container.clientWidth || 400);
    const root = svg('svg', { viewBox: `0 0 ${width} ${HEIGHT}`, width, height: HEIGHT, role: 'img', 'aria-label': options.label || 'chart' }, container);
    const x0 = options.nowMs - options.windowMs;
    const plotW = width - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    let max = 0;
    for (const s of series) for (const [, v] of s.points) if (v > max) max = v;
    const top = niceMax(max);
    const xOf = (t) => MARGIN.left + ((t - x0) / options.windowMs) * plotW;
    const yOf = (v) => MARGIN.top + plotH - (v / top) * plotH;
    // Without data only the baseline is drawn: a scale would be made up.
    for (const fraction of series.length > 0 ? [0, 0.5, 1] : [0]) {
      const y = yOf(top * fraction);
      svg('line', { x1: MARGIN.left, x2: width - MARGIN.right, y1: y, y2: y, class: 'axis' }, root);
      if (series.length > 0) svg('text', { x: MARGIN.left - 6, y: y + 3, 'text-anchor': 'end', class: 'tick' }, root).textContent = options.format(top * fraction);
    }
    for (const [t, anchor] of [[x0, 'start'], [x0 + options.windowMs / 2, 'middle'], [options.nowMs, 'end']]) {
      svg('text', { x: xOf(t), y: HEIGHT - 4, 'text-anchor': anchor, class: 'tick' }, root).textContent = clock(t);
    }
    const gapMs = (options.intervalMs || 1000) * GAP_INTERVALS;
    for (const s of series) {
      let d = '';
      let previous = null;
      for (const [t, v] of s.points) {
        if (t < x0) continue;
        d += `${previous === null || t - previous > gapMs ? 'M' : 'L'}${xOf(t).toFixed(1)},${yOf(v).toFixed(1)} `;
        previous = t;
      }
      if (d) svg('path', { d, fill: 'none', stroke: colorFor(s.name), 'stroke-width': 2, 'stroke-linejoin': 'round', 'data-series': s.name }, root);
      // The latest value as a dot, so a series with a single point shows too.
      const [lastT, lastV] = s.points[s.points.length - 1];
      if (lastT >= x0) svg('circle', { cx: xOf(lastT).toFixed(1), cy: yOf(lastV).toFixed(1), r: 2.5, fill: colorFor(s.name) }, root);
    }
    if (series.length === 0) {
      html('div', 'nodata', container, options.empty || 'no data');
      return;
    }
    const legend = html('div', 'legend', container);
    for (const s of series) {
      const item = html('span', '', legend);
      const swatch = html('span', 'swatch', item);
      swatch.style.background = colorFor(s.name);
      const last = s.points[s.points.length - 1];
      item.appendChild(document.createTextNode(`${s.name} ${options.format(last[1])}`));
    }
  }

  window.CairnCharts = { draw };
})();
