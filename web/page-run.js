// Run page: one run's status, progress, rating (stars, rating.js), parameters, timings, events,
// error summary, outputs (video player) and its log, all live: the log streams over SSE
// (/api/events?run=ID) from the byte offset the page has, gaps are filled from
// /api/runs/ID/log?offset=N. "Run again with changes" opens the rerun form (rerun.js).

import { get, getLog, post } from './api.js';
import {
  TERMINAL, basename, elapsed, errorBox, fill, fmtBytes, fmtDuration, fmtTime, h, loading,
  progressBar, setProgress, statusBadge, toast, toastError,
} from './dom.js';
import { gpuChart } from './chart.js';
import { ratingControl } from './rating.js';
import { rerunForm } from './rerun.js';
import * as sse from './sse.js';

const LOG_MAX_CHARS = 400_000;

export function render(main, { params }) {
  const runId = params[0];
  const page = h('section', { class: 'page run-page' }, loading());
  main.append(page);
  sse.follow(runId);

  let run = null;
  let closed = false;
  const ui = {};
  const log = logView(runId);

  async function load() {
    try {
      const data = await get(`/api/runs/${encodeURIComponent(runId)}`);
      if (closed) return;
      const first = !run;
      run = data;
      if (first) build();
      update(run);
      details(run);
    } catch (e) {
      if (!closed && !run) fill(page, h('h1', {}, `Run ${runId}`), errorBox(e, 'Could not load the run'));
      else if (!closed) toastError(e);
    }
  }

  function build() {
    ui.status = h('span', { 'aria-live': 'polite', class: 'run-status' });
    ui.progress = progressBar(run.progress, 'Run progress');
    ui.pct = h('span', { class: 'mono' });
    ui.elapsed = h('span', { class: 'muted' });
    ui.cancel = h('button', { type: 'button', class: 'danger' }, 'Cancel run');
    ui.cancel.addEventListener('click', cancel);
    ui.rerunToggle = h('button', { type: 'button', class: 'primary', 'aria-expanded': 'false', 'aria-controls': 'rerun' }, 'Run again with changes');
    ui.rerun = h('div', { id: 'rerun', hidden: true });
    ui.rating = ratingControl(run, (r) => Object.assign(run, { rating: r.rating }));
    ui.rerunToggle.addEventListener('click', () => {
      const open = ui.rerun.hidden;
      ui.rerun.hidden = !open;
      ui.rerunToggle.setAttribute('aria-expanded', String(open));
      if (open && !ui.rerun.firstChild) ui.rerun.append(rerunForm(run));
      if (open) ui.rerun.querySelector('input, select')?.focus();
    });
    ui.error = h('div');
    ui.output = h('div', { class: 'output' });
    ui.params = h('div');
    ui.timings = h('div');
    ui.events = h('div');
    ui.spec = h('div');
    ui.review = h('div');
    ui.gpu = h('div');
    fill(page,
      h('div', { class: 'page-head' },
        h('h1', {}, 'Run ', h('span', { class: 'mono' }, run.id)), ui.status,
        run.kind && run.kind !== 'transfer' ? h('span', { class: 'chip' }, run.kind) : null,
        ui.rating.el,
        h('div', { class: 'spacer' }),
        h('a', { href: `/runs?prompt=${encodeURIComponent(run.prompt_id)}`, class: 'button' }, 'Prompt ', h('span', { class: 'mono' }, run.prompt_id)),
        ui.cancel, ui.rerunToggle),
      h('div', { class: 'run-progress' }, ui.progress, ui.pct, ui.elapsed),
      ui.rerun, ui.error,
      h('div', { class: 'run-grid' },
        h('div', { class: 'col-main' },
          h('section', { class: 'card', 'aria-labelledby': 'h-output' }, h('h2', { id: 'h-output' }, 'Output'), ui.output),
          h('section', { class: 'card', 'aria-labelledby': 'h-log' }, log.head, log.box)),
        h('div', { class: 'col-side' },
          h('section', { class: 'card', 'aria-labelledby': 'h-params' }, h('h2', { id: 'h-params' }, 'Parameters'), ui.params),
          ui.review,
          h('section', { class: 'card', 'aria-labelledby': 'h-timings' }, h('h2', { id: 'h-timings' }, 'Timings'), ui.timings),
          h('section', { class: 'card', 'aria-labelledby': 'h-gpu' }, h('h2', { id: 'h-gpu' }, 'GPU use'), ui.gpu),
          h('section', { class: 'card', 'aria-labelledby': 'h-events' }, h('h2', { id: 'h-events' }, 'Events'), ui.events),
          h('section', { class: 'card' }, h('details', {}, h('summary', {}, h('h2', { class: 'inline' }, 'Spec sent to the model')), ui.spec)))));
    log.start();
  }

  // Fields that change with every `run` event.
  function update(r) {
    ui.status.replaceChildren(statusBadge(r.status));
    setProgress(ui.progress, r.progress);
    ui.pct.textContent = `${Math.round((r.progress || 0) * 100)}%`;
    const secs = elapsed(r.started_at, r.finished_at);
    ui.elapsed.textContent = secs === null ? '' : `${TERMINAL.has(r.status) ? 'took' : 'running for'} ${fmtDuration(secs)}`;
    ui.cancel.hidden = TERMINAL.has(r.status);
    ui.rating.set(r.rating);
    page.dataset.status = r.status;
  }

  // Fields that need the full detail (events, outputs, spec).
  function details(r) {
    fill(ui.error, r.error || r.status === 'failed' ? errorSummary(r) : null);
    fill(ui.output, outputView(r));
    fill(ui.params, paramsTable(r));
    fill(ui.timings, timingsTable(r));
    fill(ui.events, eventsList(r.events || []));
    fill(ui.review, r.review ? reviewCard(r.review) : null);
    gpuView(r);
    fill(ui.spec, h('pre', { class: 'code' }, r.spec ? JSON.stringify(r.spec, null, 2) : 'no spec recorded'));
  }

  // The GPUs it held: mean and peak (so far, while it runs), GPU-hours and cost, and a chart.
  async function gpuView(r) {
    const g = r.gpu || {};
    const rows = kv([
      ['GPUs', g.ids ? g.ids.join(', ') : null],
      ['Utilisation', g.util_mean_percent === null || g.util_mean_percent === undefined ? null
        : `mean ${Math.round(g.util_mean_percent)}%, peak ${Math.round(g.util_peak_percent)}%${TERMINAL.has(r.status) ? '' : ' (so far)'}`],
      ['Memory peak', g.mem_peak_mib ? `${(g.mem_peak_mib / 1024).toFixed(1)} GiB` : null],
      ['GPU-hours', r.gpu_seconds ? (r.gpu_seconds / 3600).toFixed(3) : null],
      ['Cost', r.cost === null || r.cost === undefined ? null : r.cost.toFixed(2)],
    ]);
    if (!r.gpu_history_url || !r.started_at) {
      fill(ui.gpu, rows);
      return;
    }
    try {
      const history = await get(r.gpu_history_url, { points: 90 });
      fill(ui.gpu, rows, gpuChart(history, { label: `GPU utilisation of run ${r.id}` }));
    } catch (e) {
      fill(ui.gpu, rows, h('p', { class: 'muted small-text' }, `No GPU history: ${e.message}`));
    }
  }

  // The Reasoner's physical-plausibility judgement (`cosmos review RUN`).
  function reviewCard(rv) {
    const score = rv.score === null || rv.score === undefined ? '?' : `${rv.score} / 5`;
    return h('section', { class: 'card', 'aria-labelledby': 'h-review', id: 'review' },
      h('h2', { id: 'h-review' }, 'Review'),
      h('p', {}, h('strong', {}, 'Plausibility ', score), rv.host ? ` (Reasoner on ${rv.host})` : ''),
      rv.reason ? h('p', { class: 'small-text' }, rv.reason) : null);
  }

  async function cancel() {
    if (!confirm(`Cancel run ${runId}?`)) return;
    ui.cancel.disabled = true;
    try {
      await post(`/api/runs/${encodeURIComponent(runId)}/cancel`, {});
      toast(`Cancelled ${runId}`, 'ok');
      load();
    } catch (e) {
      toastError(e);
    } finally {
      ui.cancel.disabled = false;
    }
  }

  let lastStatus = null;
  const offRun = sse.on('run', (r) => {
    if (r.id !== runId || !run) return;
    Object.assign(run, r);
    update(run);
    if (r.status !== lastStatus) {
      lastStatus = r.status;
      load();
      if (TERMINAL.has(r.status)) log.catchUp();
    }
  });
  const offLog = sse.on('log', (e) => {
    if (e.run_id === runId) log.event(e);
  });
  const offOutput = sse.on('output', (e) => {
    if (e.run_id === runId) load();
  });
  const offOpen = sse.on('open', () => {
    if (!run) return;
    log.catchUp();
    load();
  });
  const timer = setInterval(() => run && !TERMINAL.has(run.status) && update(run), 1000);

  load();
  return () => {
    closed = true;
    clearInterval(timer);
    offRun();
    offLog();
    offOutput();
    offOpen();
    log.stop();
    sse.follow(null);
  };
}

// The live log: bytes in order from offset 0; SSE events carry {offset, text}; anything missed
// (an event before the first fetch, a reconnect) is fetched from the offset the page has.
function logView(runId) {
  const enc = new TextEncoder();
  const dec = new TextDecoder();
  let size = 0;
  let text = '';
  let chain = Promise.resolve();
  let stopped = false;
  let started = false;
  const pending = [];
  const follow = h('input', { type: 'checkbox', checked: true, id: 'log-follow' });
  const sizeLabel = h('span', { class: 'muted mono' });
  const pre = h('pre', { class: 'log', id: 'run-log', tabindex: '0', 'aria-label': 'Run log' });
  const head = h('div', { class: 'card-head' }, h('h2', { id: 'h-log' }, 'Log'), sizeLabel,
    h('div', { class: 'spacer' }),
    h('label', { class: 'check' }, follow, 'Follow'),
    h('a', { href: `/api/runs/${encodeURIComponent(runId)}/log`, target: '_blank', class: 'button small' }, 'Raw'));
  let frame = 0;

  function show() {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      pre.textContent = text || (size ? '' : 'No output yet.');
      sizeLabel.textContent = fmtBytes(size);
      if (follow.checked) pre.scrollTop = pre.scrollHeight;
    });
  }

  function appendBytes(bytes) {
    let t = dec.decode(bytes, { stream: true }).replace(/\r\n/g, '\n');
    // A carriage return (progress bars) rewrites the current line.
    const parts = t.split('\r');
    text += parts[0];
    for (const p of parts.slice(1)) text = text.slice(0, text.lastIndexOf('\n') + 1) + p;
    if (text.length > LOG_MAX_CHARS) text = `…\n${text.slice(text.indexOf('\n', text.length - LOG_MAX_CHARS) + 1)}`;
    size += bytes.length;
    show();
  }

  async function fetchFrom() {
    try {
      const { bytes } = await getLog(runId, size);
      if (!stopped) appendBytes(bytes);
    } catch (e) {
      if (e.status !== 404) console.warn('log', e);
    }
  }

  function onEvent(e) {
    const bytes = enc.encode(e.text);
    const end = e.offset + bytes.length;
    if (end <= size) return Promise.resolve();
    if (e.offset > size) return fetchFrom(); // a gap: read the file from where we are
    appendBytes(bytes.subarray(size - e.offset));
    return Promise.resolve();
  }

  return {
    head,
    box: pre,
    start() {
      started = true;
      show();
      chain = chain.then(fetchFrom).then(() => Promise.all(pending.splice(0).map(onEvent)));
    },
    event(e) {
      if (!started) {
        pending.push(e);
        return;
      }
      chain = chain.then(() => onEvent(e));
    },
    catchUp() {
      if (started) chain = chain.then(fetchFrom);
    },
    stop() {
      stopped = true;
      cancelAnimationFrame(frame);
    },
  };
}

function errorSummary(r) {
  const failedEvent = [...(r.events || [])].reverse().find((e) => e.status === 'failed');
  return h('div', { class: 'error run-error', role: 'alert' },
    h('strong', {}, 'Run failed', r.exit_code !== null && r.exit_code !== undefined ? ` (exit code ${r.exit_code})` : '', ': '),
    h('span', {}, r.error || failedEvent?.detail || 'no error recorded'),
    failedEvent && failedEvent.detail && failedEvent.detail !== r.error ? h('div', { class: 'hint' }, failedEvent.detail) : null,
    h('div', { class: 'hint' }, 'The log below shows the model\'s own output; `cosmos show ', r.id, '` has the same.'));
}

function outputView(r) {
  const outputs = r.outputs || [];
  const videos = outputs.filter((o) => /\.(mp4|webm|mov|mkv)$/i.test(o.name));
  const named = videos.find((o) => basename(o.name) === basename(r.output_video)) || videos[0];
  const main = r.output_url ? { url: r.output_url, name: basename(r.output_video) || 'output.mp4' } : named;
  const parts = [];
  if (main) {
    parts.push(h('video', {
      class: 'player', controls: true, preload: 'metadata', src: main.url, playsinline: true,
      'aria-label': `Output video ${main.name}`, loop: true,
    }));
    parts.push(h('div', { class: 'row' },
      h('a', { href: `/gallery/${encodeURIComponent(r.id)}`, class: 'button small' }, 'Compare with input'),
      h('a', { href: main.url, download: basename(main.name), class: 'button small' }, 'Download')));
  } else {
    parts.push(h('p', { class: 'empty' }, TERMINAL.has(r.status) ? 'This run has no output video.' : 'The output appears here when the run finishes.'));
  }
  if (outputs.length) {
    parts.push(h('details', { class: 'files' }, h('summary', {}, `Files (${outputs.length})`),
      h('ul', { class: 'files' }, outputs.map((o) => h('li', {},
        h('a', { href: o.url, target: '_blank' }, o.name), h('span', { class: 'muted' }, fmtBytes(o.size)))))));
  }
  return parts;
}

function kv(rows) {
  return h('table', { class: 'kv' }, h('tbody', {}, rows.filter(Boolean).map(([k, v]) =>
    h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v ?? '—')))));
}

function paramsTable(r) {
  const p = r.params || {};
  const weights = Object.entries(p.weights || {});
  return [
    weights.length ? h('div', { class: 'weights' }, weights.map(([m, w]) => h('div', { class: 'weight' },
      h('span', { class: 'wname' }, m),
      h('div', { class: 'wbar', 'aria-hidden': 'true' }, h('div', { style: { width: `${Math.min(1, w) * 100}%` } })),
      h('span', { class: 'mono' }, String(w))))) : null,
    kv([
      ['Model', r.model_name ? `${r.model_name} (${r.model})` : r.model],
      ['Steps', p.num_steps], ['Guidance', p.guidance],
      r.model === 'transfer2.5' ? ['Resolution', p.resolution || '720'] : ['Sigma max', p.sigma_max],
      ['Seed', p.seed],
      r.model === 'transfer2.5' ? null : ['FPS', p.fps],
      ['Blur strength', p.blur_strength], ['Canny threshold', p.canny_threshold],
      ['GPUs', p.num_gpus], ['Offload', (p.offload || []).join(', ') || 'none'],
      ['Host', r.host], ['Runtime', r.runtime], r.batch_id ? ['Batch', `${r.batch_id} #${r.batch_index}`] : null,
      r.parent_run_id ? ['Parent run', h('a', { href: `/runs/${encodeURIComponent(r.parent_run_id)}`, class: 'mono' }, r.parent_run_id)] : null,
      r.job ? ['Queue job', `${r.job.job} · ${r.job.state}${r.job.position ? ` · #${r.job.position}` : ''}`] : null,
    ]),
  ];
}

function timingsTable(r) {
  const d = r.durations || {};
  return kv([
    ['Created', fmtTime(r.created_at)], ['Started', fmtTime(r.started_at)], ['Finished', fmtTime(r.finished_at)],
    ['Upload', fmtDuration(d.upload_s)], ['Model run', fmtDuration(d.run_s)], ['Download', fmtDuration(d.download_s)],
    ['Total', fmtDuration(elapsed(r.started_at, r.finished_at))],
    r.uploaded_bytes ? ['Uploaded', fmtBytes(r.uploaded_bytes)] : null,
  ]);
}

function eventsList(events) {
  if (!events.length) return h('p', { class: 'muted' }, 'No events yet.');
  return h('ol', { class: 'events' }, events.map((e) => h('li', {},
    h('span', { class: 'muted nowrap' }, fmtTime(e.at)), ' ', statusBadge(e.status),
    e.detail ? h('span', { class: 'detail' }, ' ', e.detail) : null)));
}
