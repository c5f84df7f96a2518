// Queue page: running jobs, then queued ones in order, and the last finished ones, live from
// `job`, `queue` and `run` events; pause or resume the whole queue or one job, cancel a job,
// move a queued job up or down.

import { get, post } from './api.js';
import { debounce, errorBox, fill, h, loading, progressBar, statusBadge, toast, toastError } from './dom.js';
import * as sse from './sse.js';

export function render(main) {
  const body = h('div', { class: 'table-wrap' }, loading());
  const state = h('span', { class: 'queue-state', 'aria-live': 'polite' });
  const toggle = h('button', { type: 'button' }, '…');
  let paused = false;
  let controller = null;

  async function load() {
    controller?.abort();
    controller = new AbortController();
    try {
      const q = await get('/api/queue', {}, { signal: controller.signal });
      paused = !!q.paused;
      fill(state, paused ? h('span', { class: 'badge s-paused' }, 'paused') : h('span', { class: 'badge s-running' }, 'working'));
      toggle.textContent = paused ? 'Resume queue' : 'Pause queue';
      toggle.className = paused ? 'primary' : '';
      const items = q.items || [];
      const active = items.filter((j) => j.state === 'queued' || j.state === 'running');
      const finished = items.filter((j) => !active.includes(j));
      fill(body, table(active),
        finished.length ? h('details', { class: 'finished' }, h('summary', {}, `Finished (${finished.length})`), table(finished)) : null);
    } catch (e) {
      if (e.name !== 'AbortError') fill(body, errorBox(e, 'Could not load the queue'));
    }
  }
  const reload = debounce(load, 150);

  async function act(path, payload, message) {
    try {
      await post(path, payload);
      if (message) toast(message, 'ok');
    } catch (e) {
      toastError(e);
    }
    load();
  }

  toggle.addEventListener('click', () => act(paused ? '/api/queue/resume' : '/api/queue/pause', {},
    paused ? 'Queue resumed' : 'Queue paused: running jobs finish, nothing new starts'));

  // An estimated time (learned from similar finished runs, docs/queue.md) as "+12m"; "?" when
  // the queue has no history for the job; "—" for jobs that are done or held.
  function eta(j, iso) {
    if (!['queued', 'running'].includes(j.state) || j.paused || paused) return '—';
    if (!iso) return '?';
    const minutes = Math.ceil((Date.parse(iso) - Date.now()) / 60000);
    if (minutes <= 0) return 'now';
    return minutes < 60 ? `+${minutes}m` : `+${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
  }

  function table(items) {
    if (!items.length) return h('p', { class: 'empty' }, 'The queue is empty. Runs launched from the Prompts page or a run\'s page wait here.');
    const queued = items.filter((j) => j.state === 'queued');
    return h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['#', 'Run', 'Job', 'State', 'Run status', 'Priority', 'Host', 'GPUs', 'Progress', 'Attempts', 'Starts', 'Ends', 'Note', '']
        .map((t) => h('th', { scope: 'col' }, t || h('span', { class: 'sr-only' }, 'Actions'))))),
      h('tbody', {}, items.map((j) => {
        const idx = queued.indexOf(j);
        const run = encodeURIComponent(j.run);
        const up = h('button', { type: 'button', class: 'small icon', title: 'Move up', 'aria-label': `Move ${j.run} up`, disabled: idx <= 0 }, '↑');
        const down = h('button', { type: 'button', class: 'small icon', title: 'Move down', 'aria-label': `Move ${j.run} down`, disabled: idx < 0 || idx === queued.length - 1 }, '↓');
        const cancel = h('button', { type: 'button', class: 'small danger', 'aria-label': `Cancel ${j.run}` }, 'Cancel');
        const hold = h('button', { type: 'button', class: 'small', 'aria-label': `${j.paused ? 'Resume' : 'Pause'} ${j.run}` }, j.paused ? 'Resume' : 'Hold');
        hold.addEventListener('click', () => act(`/api/queue/${run}/${j.paused ? 'resume' : 'pause'}`, {}));
        up.addEventListener('click', () => act(`/api/queue/${run}/move`, { position: j.position - 1 }));
        down.addEventListener('click', () => act(`/api/queue/${run}/move`, { position: j.position + 1 }));
        cancel.addEventListener('click', () => confirm(`Cancel ${j.run}?`) && act(`/api/queue/${run}/cancel`, {}, `Cancelled ${j.run}`));
        const notes = [j.paused ? 'paused' : null, j.reason, j.depends_on ? `after ${j.depends_on}` : null, j.batch_id ? `batch ${j.batch_id}` : null].filter(Boolean);
        return h('tr', { dataset: { run: j.run, state: j.state } },
          h('td', { class: 'mono' }, j.position ?? (j.state === 'running' ? '▶' : '')),
          h('td', { class: 'mono' }, h('a', { href: `/runs/${run}` }, j.run)),
          h('td', { class: 'mono muted' }, j.job),
          h('td', {}, statusBadge(j.state)),
          h('td', {}, statusBadge(j.run_status)),
          h('td', { class: 'mono' }, j.priority),
          h('td', {}, j.host || (j.want_host ? `wants ${j.want_host}` : '—')),
          h('td', { class: 'mono' }, (j.gpu_ids && j.gpu_ids.length ? j.gpu_ids.join(',') : j.gpus) ?? '—'),
          h('td', { class: 'progress-cell' }, progressBar(j.progress, `Progress of ${j.run}`)),
          h('td', { class: 'mono' }, `${j.attempts}/${j.max_attempts}`),
          h('td', { class: 'mono eta', title: j.estimated_start || 'unknown' }, j.state === 'running' ? 'started' : eta(j, j.estimated_start)),
          h('td', { class: 'mono eta', title: j.estimated_finish || 'unknown' }, eta(j, j.estimated_finish)),
          h('td', { class: 'small-text' }, notes.join(' · ') || ''),
          h('td', { class: 'row-actions' }, j.state === 'queued' ? [up, down, hold] : null,
            j.state === 'queued' || j.state === 'running' ? cancel : null));
      })));
  }

  const slow = debounce(load, 1000); // progress: many events
  const offs = [sse.on('job', reload), sse.on('queue', reload), sse.on('run', slow), sse.on('open', ({ first }) => first || reload())];
  main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Queue'), state, h('div', { class: 'spacer' }), toggle), body));
  load();
  return () => {
    controller?.abort();
    reload.cancel();
    slow.cancel();
    offs.forEach((f) => f());
  };
}
