// GPU utilisation charts: an inline SVG with one line per GPU (0-100 %) over time, drawn from
// the API's GPU history (/api/hosts/{name}/gpu, /api/runs/{id}/gpu: points are
// [t_ms, util_mean, util_peak, mem_mean_mib, mem_total_mib, power_w, temp_c]).

const NS = 'http://www.w3.org/2000/svg';
const COLORS = ['#3b82f6', '#f97316', '#10b981', '#a855f7', '#ef4444', '#eab308', '#06b6d4', '#ec4899'];

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

function clock(ms) {
  const d = new Date(ms);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// The chart for `history`, or a short note when it has no points. A line breaks where samples
// stop for more than three steps (the host had no work then).
export function gpuChart(history, { width = 320, height = 90, label = 'GPU utilisation' } = {}) {
  const gpus = (history && history.gpus) || [];
  const points = gpus.flatMap((g) => g.points || []);
  if (!points.length) {
    const p = document.createElement('p');
    p.className = 'muted small-text gpu-chart-empty';
    p.textContent = 'No GPU samples in this window (hosts are sampled while they have work).';
    return p;
  }
  const from = history.from_ms ?? Math.min(...points.map((p) => p[0]));
  const to = Math.max(history.to_ms ?? 0, ...points.map((p) => p[0]));
  const span = Math.max(1, to - from);
  const gap = Math.max(1, history.step_s || 1) * 1000 * 3;
  const pad = { l: 28, r: 4, t: 4, b: 14 };
  const w = width - pad.l - pad.r;
  const hgt = height - pad.t - pad.b;
  const x = (t) => pad.l + ((t - from) / span) * w;
  const y = (u) => pad.t + (1 - Math.max(0, Math.min(100, u)) / 100) * hgt;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'gpu-chart', role: 'img', 'aria-label': label });
  for (const u of [0, 50, 100]) {
    root.append(svg('line', { x1: pad.l, x2: width - pad.r, y1: y(u), y2: y(u), class: 'grid' }));
    root.append(svg('text', { x: pad.l - 3, y: y(u) + 3, 'text-anchor': 'end', class: 'axis' }, document.createTextNode(`${u}%`)));
  }
  root.append(svg('text', { x: pad.l, y: height - 2, class: 'axis' }, document.createTextNode(clock(from))));
  root.append(svg('text', { x: width - pad.r, y: height - 2, 'text-anchor': 'end', class: 'axis' }, document.createTextNode(clock(to))));
  gpus.forEach((g, i) => {
    let d = '';
    let last = null;
    for (const p of g.points || []) {
      d += `${last === null || p[0] - last > gap ? 'M' : 'L'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)} `;
      last = p[0];
    }
    const mean = (g.points || []).reduce((s, p) => s + p[1], 0) / Math.max(1, (g.points || []).length);
    const peak = Math.max(...(g.points || []).map((p) => p[2]));
    root.append(svg('path', { d, class: 'series', stroke: COLORS[i % COLORS.length], 'data-gpu': g.gpu },
      svg('title', {}, document.createTextNode(`GPU ${g.gpu}: mean ${mean.toFixed(0)}%, peak ${peak.toFixed(0)}%`))));
  });
  const legend = document.createElement('div');
  legend.className = 'gpu-legend small-text';
  gpus.forEach((g, i) => {
    const item = document.createElement('span');
    item.style.setProperty('--c', COLORS[i % COLORS.length]);
    item.textContent = `GPU ${g.gpu}`;
    legend.append(item);
  });
  const box = document.createElement('div');
  box.className = 'gpu-chart-box';
  box.append(root, legend);
  return box;
}
