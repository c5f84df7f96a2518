// Hosts page: each configured host with reachability, per-GPU utilisation and memory (probed
// by the server in the background while the page asks, at most 10 s old) and the runs on it;
// refreshed every 5 s and on run changes.

import { get } from './api.js';
import { gpuChart } from './chart.js';
import { debounce, errorBox, fill, fmtBytes, fmtTime, h, loading } from './dom.js';
import * as sse from './sse.js';

function gpuList(x) {
  // The probed GPUs: `gpu_stats`, or `gpus` when the server put the list there.
  if (Array.isArray(x.gpu_stats)) return x.gpu_stats;
  if (Array.isArray(x.gpus)) return x.gpus;
  return null;
}

function meter(label, fraction, text) {
  const pct = Math.max(0, Math.min(1, fraction || 0)) * 100;
  return h('div', { class: 'meter' },
    h('span', { class: 'meter-label' }, label),
    h('div', { class: `meter-bar${pct > 90 ? ' hot' : ''}`, role: 'meter', 'aria-label': label, 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(pct)) },
      h('div', { style: { width: `${pct}%` } })),
    h('span', { class: 'mono meter-text' }, text));
}

// A Slurm cluster: its partition, nodes and our jobs there instead of a GPU table.
function slurmView(x) {
  const nodes = x.nodes || [];
  const jobs = x.jobs || [];
  return h('div', { class: 'slurm' },
    h('p', { class: 'small-text' }, `partition ${x.partition ?? '?'}: ${nodes.length} node${nodes.length === 1 ? '' : 's'}, `
      + `${x.gpus_free ?? '?'} of ${x.gpus_total ?? '?'} GPUs free`
      + (x.max_in_flight ? ` · at most ${x.max_in_flight} jobs in flight` : '')),
    nodes.length ? h('h3', {}, 'Nodes') : null,
    nodes.length ? h('table', { class: 'kv' }, h('tbody', {}, nodes.map((n) => h('tr', {},
      h('th', { scope: 'row', class: 'mono' }, n.name), h('td', {}, `${n.state} · ${n.gpus_used ?? 0}/${n.gpus ?? 0} GPUs used`))))) : null,
    h('h3', {}, 'Our jobs'),
    jobs.length ? h('table', { class: 'kv' }, h('tbody', {}, jobs.map((j) => h('tr', {},
      h('th', { scope: 'row', class: 'mono' }, j.slurm_job_id), h('td', {}, `${j.name} · ${j.state}${j.reason ? ` (${j.reason})` : ''}`)))))
      : h('p', { class: 'muted small-text' }, 'none in the cluster'));
}

// The last hour of a sampled host's GPUs (local and ssh hosts), loaded into `box`.
async function loadChart(name, box, signal) {
  try {
    const history = await get(`/api/hosts/${encodeURIComponent(name)}/gpu`, { minutes: 60, points: 120 }, { signal });
    fill(box, h('h3', {}, 'Last hour'), gpuChart(history, { label: `GPU utilisation of ${name}, last hour` }));
  } catch (e) {
    if (e.name !== 'AbortError') fill(box, h('p', { class: 'muted small-text' }, `No GPU history: ${e.message}`));
  }
}

function hostCard(x, charts) {
  const gpus = gpuList(x);
  const count = typeof x.gpus === 'number' ? x.gpus : (x.gpu_count ?? gpus?.length);
  const reach = x.reachable === undefined || x.reachable === null ? h('span', { class: 'badge s-pending' }, 'probing')
    : x.reachable ? h('span', { class: 'badge s-succeeded' }, 'reachable') : h('span', { class: 'badge s-failed' }, 'unreachable');
  const where = x.kind === 'local' ? 'this machine' : `${x.user ? `${x.user}@` : ''}${x.address || '?'}${x.port && x.port !== 22 ? `:${x.port}` : ''}`;
  return h('li', { class: 'card host', dataset: { host: x.name } },
    h('div', { class: 'card-head' }, h('h2', {}, x.name), reach, h('div', { class: 'spacer' }),
      h('span', { class: 'chip' }, x.kind), x.runtime ? h('span', { class: 'chip' }, x.runtime) : null),
    gpus && gpus.length ? h('p', { class: 'small-text' }, `${gpus.length} × ${[...new Set(gpus.map((g) => g.name))].join(', ')}`) : null,
    h('p', { class: 'muted mono small-text' }, where, count ? ` · ${count} GPU${count > 1 ? 's' : ''} configured` : '',
      x.latency_ms !== undefined && x.latency_ms !== null ? ` · ${Math.round(x.latency_ms)} ms` : '',
      x.probed_at ? ` · probed ${fmtTime(x.probed_at)}` : ''),
    x.error ? h('p', { class: 'warn small-text' }, x.error) : null,
    x.gpu_error ? h('p', { class: 'warn small-text' }, `GPUs: ${x.gpu_error}`) : null,
    x.kind === 'slurm' ? slurmView(x) : gpus && gpus.length ? h('div', { class: 'gpus' },
      h('div', { class: 'gpu-head' }, h('span', {}, ''), h('span', {}, 'Utilisation'), h('span', {}, 'Memory')),
      gpus.map((g) => h('div', { class: 'gpu', title: g.name || '' },
      h('div', { class: 'gpu-name mono' }, `GPU ${g.index}`),
      meter(`GPU ${g.index} utilisation`, (g.utilization_percent ?? 0) / 100, `${g.utilization_percent ?? '—'}%`),
      meter(`GPU ${g.index} memory`, g.memory_total_mib ? g.memory_used_mib / g.memory_total_mib : 0,
        `${((g.memory_used_mib ?? 0) / 1024).toFixed(1)} / ${((g.memory_total_mib ?? 0) / 1024).toFixed(1)} GiB`))))
      : h('p', { class: 'muted small-text' }, 'No GPU figures (yet).'),
    x.free_bytes ? h('p', { class: 'muted small-text' }, `${fmtBytes(x.free_bytes)} free in the work dir`) : null,
    x.kind === 'local' || x.kind === 'ssh' ? charts(x.name) : null,
    h('div', { class: 'running' }, h('span', { class: 'label' }, 'Running: '),
      (x.running || []).length ? (x.running || []).map((id) => h('a', { href: `/runs/${encodeURIComponent(id)}`, class: 'chip mono' }, id))
        : h('span', { class: 'muted' }, 'nothing')));
}

export function render(main) {
  const list = h('div', {}, loading());
  let controller = null;
  // Charts are fetched at most every 30 s per host and kept across the 5 s refreshes.
  const chartBoxes = new Map();
  const chartLoaded = new Map();
  const charts = (name) => {
    if (!chartBoxes.has(name)) chartBoxes.set(name, h('div', { class: 'host-chart', dataset: { host: name } }));
    const box = chartBoxes.get(name);
    if (!chartLoaded.has(name) || Date.now() - chartLoaded.get(name) > 30000) {
      chartLoaded.set(name, Date.now());
      loadChart(name, box, controller?.signal);
    }
    return box;
  };
  async function load() {
    controller?.abort();
    controller = new AbortController();
    try {
      const data = await get('/api/hosts', {}, { signal: controller.signal });
      const items = data.items || [];
      fill(list, items.length ? h('ul', { class: 'hosts' }, items.map((x) => hostCard(x, charts)))
        : h('p', { class: 'empty' }, 'No hosts configured. Add one with `cosmos hosts add`.'));
    } catch (e) {
      if (e.name !== 'AbortError') fill(list, errorBox(e, 'Could not load hosts'));
    }
  }
  const reload = debounce(load, 1000);
  const offs = [sse.on('run', reload), sse.on('job', reload)];
  // The server probes hosts while this page asks: soon after the first look, then every 5 s.
  let timer = null;
  let closed = false;
  const schedule = (ms) => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      await load();
      if (!closed) schedule(5000);
    }, ms);
  };
  schedule(1200);
  main.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Hosts'),
    h('span', { class: 'muted small-text' }, 'GPU figures are probed in the background, at most 10 s old.')), list));
  load();
  return () => {
    controller?.abort();
    closed = true;
    clearTimeout(timer);
    reload.cancel();
    offs.forEach((f) => f());
  };
}
