// Small DOM and formatting helpers shared by the page modules: h() builds elements (text is
// always set as text, never parsed as HTML), badges, progress bars, error boxes, toasts, time
// and size formatting, and navigate() for in-app links.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  let value;
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'value') value = v;
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  if (value !== undefined) el.value = value; // after the children: a <select>'s options
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces the children of `el`.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState({}, '', path);
  else history.pushState({}, '', path);
  window.dispatchEvent(new Event('cosmos:navigate'));
}

export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

export function statusBadge(status) {
  return h('span', { class: `badge s-${status || 'unknown'}` }, status || '—');
}

export function progressBar(fraction, label = 'Progress') {
  const pct = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
  return h('div', {
    class: 'progress', role: 'progressbar', 'aria-label': label,
    'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)),
  }, h('div', { class: 'bar', style: { width: `${pct.toFixed(1)}%` } }));
}

export function setProgress(el, fraction) {
  const pct = Math.max(0, Math.min(1, Number(fraction) || 0)) * 100;
  el.setAttribute('aria-valuenow', String(Math.round(pct)));
  el.querySelector('.bar').style.width = `${pct.toFixed(1)}%`;
}

// A visible error: the server's message, its hint, and the error code.
export function errorBox(err, title = '') {
  return h('div', { class: 'error', role: 'alert' },
    h('strong', {}, title ? `${title}: ` : '', err.message || String(err)),
    err.hint ? h('div', { class: 'hint' }, err.hint) : null,
    err.code ? h('div', { class: 'code' }, `${err.code}${err.status ? ` · HTTP ${err.status}` : ''}`) : null);
}

export function toast(message, kind = 'info', hint = '') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast ${kind}` }, message, hint ? h('div', { class: 'hint' }, hint) : null);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 9000 : 4000);
}

export function toastError(err) {
  toast(err.message || String(err), 'error', err.hint || '');
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'muted loading' }, text);
}

// "2026-11-30T08:01:02Z" → "Nov 30 08:01:02" in the browser's time zone.
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(Number(seconds))) return '—';
  const s = Number(seconds);
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function elapsed(from, to) {
  if (!from) return null;
  const a = new Date(from).getTime();
  const b = to ? new Date(to).getTime() : Date.now();
  return Number.isNaN(a) || Number.isNaN(b) ? null : (b - a) / 1000;
}

export function fmtBytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let v = Number(n);
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${units[i]}`;
}

export function basename(path) {
  if (!path) return '';
  const parts = String(path).replace(/\/+$/, '').split('/');
  return parts[parts.length - 1];
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
export const STATUSES = ['pending', 'queued', 'running', 'succeeded', 'failed', 'cancelled'];

// The `weights` of run params as "depth 0.6 · seg 0.4".
export function fmtWeights(weights) {
  const entries = Object.entries(weights || {}).filter(([, w]) => w > 0);
  return entries.length ? entries.map(([m, w]) => `${m} ${w}`).join(' · ') : 'none';
}

// A pager: "1–50 of 230" with previous / next buttons calling go(newOffset).
export function pager(total, offset, limit, go) {
  const end = Math.min(total, offset + limit);
  return h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: offset <= 0, onclick: () => go(Math.max(0, offset - limit)) }, '‹ Previous'),
    h('span', { class: 'muted' }, total ? `${offset + 1}–${end} of ${total}` : 'none'),
    h('button', { type: 'button', disabled: end >= total, onclick: () => go(offset + limit) }, 'Next ›'));
}
