// A small SVG line chart: no library, no request, colours from CSS variables.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

/**
 * Draws series (name -> [[timeMs, value], ...]) into container; each line
 * carries data-series and data-last so tests and people can read it.
 * options: height (px), firstColour (index of the first series' colour).
 */
export function drawLines(container, series, legend, options = {}) {
  const height = options.height ?? 220;
  const width = Math.max(container.clientWidth, 280);
  const pad = { left: 44, right: 8, top: 8, bottom: 22 };
  const points = Object.values(series).flat();
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'lines' });
  container.replaceChildren(svg);
  if (legend) legend.replaceChildren();
  if (points.length === 0) {
    const text = el('text', {
      x: width / 2,
      y: height / 2,
      'text-anchor': 'middle',
      class: 'axis',
    });
    text.textContent = 'no samples yet';
    svg.append(text);
    return;
  }
  const t0 = Math.min(...points.map((p) => p[0]));
  const t1 = Math.max(...points.map((p) => p[0]), t0 + 1);
  const max = Math.max(1, ...points.map((p) => p[1]));
  const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / max) * (height - pad.top - pad.bottom);
  for (const v of [0, max / 2, max]) {
    svg.append(
      el('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'grid' }),
    );
    const label = el('text', { x: pad.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' });
    label.textContent = Number.isInteger(v) || max > 10 ? String(Math.round(v)) : v.toFixed(1);
    svg.append(label);
  }
  for (const [t, anchor] of [
    [t0, 'start'],
    [t1, 'end'],
  ]) {
    const label = el('text', { x: x(t), y: height - 6, 'text-anchor': anchor, class: 'axis' });
    label.textContent = new Date(t).toLocaleTimeString();
    svg.append(label);
  }
  let index = 0;
  for (const [name, data] of Object.entries(series)) {
    const colour = `series-${(index++ + (options.firstColour ?? 0)) % 8}`;
    const d = data
      .map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`)
      .join('');
    const last = data.at(-1)?.[1] ?? 0;
    svg.append(el('path', { d, class: `line ${colour}`, 'data-series': name, 'data-last': last }));
    const end = data.at(-1);
    if (end)
      svg.append(el('circle', { cx: x(end[0]), cy: y(end[1]), r: 3, class: `dot ${colour}` }));
    if (legend) {
      const item = document.createElement('span');
      item.className = `key ${colour}`;
      item.textContent = `${name} ${Number.isInteger(last) ? last : last.toFixed(1)}`;
      legend.append(item);
    }
  }
}
