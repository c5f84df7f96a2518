// Runs page: every run, filtered by status, host, prompt, minimum rating, date range and text,
// paged; rows update live (status, progress, rating) from `run` events and new runs appear
// without a reload.

import { get } from './api.js';
import {
  STATUSES, debounce, elapsed, errorBox, fill, fmtDuration, fmtTime, fmtWeights, h, loading,
  pager, progressBar, setProgress, statusBadge,
} from './dom.js';
import { minRatingSelect, starsBadge } from './rating.js';
import * as sse from './sse.js';

const LIMIT = 50;
const FILTERS = ['status', 'host', 'prompt', 'min_rating', 'since', 'until', 'q'];

export function render(main, { query }) {
  const list = h('div', { class: 'table-wrap' }, loading());
  const hostList = h('datalist', { id: 'host-names' });
  const inputs = {
    status: h('select', { name: 'status', id: 'f-status' },
      h('option', { value: '' }, 'any'), STATUSES.map((s) => h('option', { value: s }, s))),
    host: h('input', { name: 'host', id: 'f-host', list: 'host-names', placeholder: 'any', autocomplete: 'off' }),
    prompt: h('input', { name: 'prompt', id: 'f-prompt', placeholder: 'prompt id', autocomplete: 'off', spellcheck: 'false' }),
    min_rating: minRatingSelect('f-min-rating'),
    since: h('input', { name: 'since', id: 'f-since', type: 'date' }),
    until: h('input', { name: 'until', id: 'f-until', type: 'date' }),
    q: h('input', { name: 'q', id: 'f-q', type: 'search', placeholder: 'id, prompt text, error…', autocomplete: 'off' }),
  };
  for (const k of FILTERS) inputs[k].value = query.get(k) || '';
  const labels = { status: 'Status', host: 'Host', prompt: 'Prompt', min_rating: 'Rating', since: 'From', until: 'To', q: 'Search' };
  const clear = h('button', { type: 'button', class: 'small' }, 'Clear');
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter runs' },
    FILTERS.map((k) => h('label', { for: inputs[k].id }, labels[k], inputs[k])), clear, hostList);
  filters.addEventListener('submit', (e) => e.preventDefault());

  let offset = Number(query.get('offset') || 0);
  let rows = new Map();
  let controller = null;

  function params() {
    const p = {};
    for (const k of FILTERS) if (inputs[k].value.trim()) p[k] = inputs[k].value.trim();
    // Dates are the browser's calendar days; the API compares ISO timestamps (UTC).
    if (p.since) p.since = new Date(`${p.since}T00:00:00`).toISOString();
    if (p.until) p.until = new Date(`${p.until}T23:59:59.999`).toISOString();
    return p;
  }

  function syncUrl() {
    const s = new URLSearchParams();
    for (const k of FILTERS) if (inputs[k].value.trim()) s.set(k, inputs[k].value.trim());
    if (offset) s.set('offset', offset);
    const text = s.toString();
    history.replaceState({}, '', `${location.pathname === '/' ? '/' : '/runs'}${text ? `?${text}` : ''}`);
  }

  async function load() {
    controller?.abort();
    controller = new AbortController();
    try {
      const data = await get('/api/runs', { ...params(), limit: LIMIT, offset }, { signal: controller.signal });
      rows = new Map();
      fill(list, table(data.items || [], rows), pager(data.total ?? 0, offset, LIMIT, (o) => {
        offset = o;
        syncUrl();
        load();
      }));
    } catch (e) {
      if (e.name !== 'AbortError') fill(list, errorBox(e, 'Could not load runs'));
    }
  }
  const reload = debounce(load, 400);
  const changed = debounce(() => {
    offset = 0;
    syncUrl();
    load();
  }, 250);
  for (const k of FILTERS) inputs[k].addEventListener(k === 'q' || k === 'host' || k === 'prompt' ? 'input' : 'change', changed);
  clear.addEventListener('click', () => {
    for (const k of FILTERS) inputs[k].value = '';
    changed();
  });

  get('/api/hosts').then((d) => fill(hostList, (d.items || []).map((x) => h('option', { value: x.name })))).catch(() => {});

  const offRun = sse.on('run', (r) => {
    const row = rows.get(r.id);
    if (!row) {
      if (offset === 0) reload();
      return;
    }
    const status = inputs.status.value;
    const minRating = Number(inputs.min_rating.value || 0);
    if ((status && r.status !== status) || (minRating && !(r.rating >= minRating))) {
      reload();
      return;
    }
    row.status.replaceChildren(statusBadge(r.status));
    row.rating.replaceChildren(starsBadge(r.rating));
    setProgress(row.progress, r.progress);
    row.duration.textContent = fmtDuration(elapsed(r.started_at, r.finished_at));
  });
  const offOpen = sse.on('open', ({ first }) => first || reload());

  main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Runs')), filters, list));
  load();
  return () => {
    controller?.abort();
    reload.cancel();
    offRun();
    offOpen();
  };
}

function table(items, rows) {
  if (!items.length) return h('p', { class: 'empty' }, 'No runs match. Launch one from the Prompts page.');
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {}, ['Run', 'Status', 'Progress', 'Rating', 'Prompt', 'Model', 'Host', 'Weights', 'Created', 'Duration', 'GPU-h', 'Cost']
      .map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, items.map((r) => {
      const status = h('td', {}, statusBadge(r.status));
      const progress = progressBar(r.progress, `Progress of ${r.id}`);
      const duration = h('td', { class: 'nowrap' }, fmtDuration(elapsed(r.started_at, r.finished_at)));
      const rating = h('td', { class: 'nowrap' }, starsBadge(r.rating));
      rows.set(r.id, { status, progress, duration, rating });
      return h('tr', { dataset: { id: r.id } },
        h('td', { class: 'mono' }, h('a', { href: `/runs/${encodeURIComponent(r.id)}` }, r.id),
          r.kind && r.kind !== 'transfer' ? h('span', { class: 'chip' }, r.kind) : null),
        status,
        h('td', { class: 'progress-cell' }, progress),
        rating,
        h('td', { class: 'mono' }, h('a', { href: `/runs?prompt=${encodeURIComponent(r.prompt_id)}` }, r.prompt_id)),
        h('td', { class: 'nowrap' }, r.model_name || r.model || 'transfer1'),
        h('td', {}, r.host || '—'),
        h('td', { class: 'mono small-text' }, fmtWeights(r.params?.weights)),
        h('td', { class: 'nowrap' }, fmtTime(r.created_at)),
        duration,
        h('td', { class: 'mono nowrap', title: r.gpu?.util_mean_percent ? `GPU utilisation mean ${Math.round(r.gpu.util_mean_percent)}%` : '' },
          r.gpu_seconds ? (r.gpu_seconds / 3600).toFixed(3) : '—'),
        h('td', { class: 'mono nowrap' }, r.cost === null || r.cost === undefined ? '—' : r.cost.toFixed(2)));
    })));
}
