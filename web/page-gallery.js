// Gallery page: output videos of finished runs in a grid (hover or focus plays a clip), filtered
// by minimum rating (?min_rating=N), new outputs appear live; /gallery/RUN opens the side-by-side view of input and output whose
// players are synchronized: play, pause, seek or rate change on either drives the other, and
// one shared bar controls both.

import { get } from './api.js';
import { basename, debounce, errorBox, fill, fmtTime, fmtWeights, h, loading, pager, statusBadge } from './dom.js';
import { minRatingSelect, starsBadge } from './rating.js';
import * as sse from './sse.js';

const LIMIT = 24;
const cache = new Map(); // run id -> gallery item, from the grid

export function render(main, { params, query }) {
  if (params[0]) return compare(main, params[0]);
  let offset = Number(query.get('offset') || 0);
  const grid = h('div', { class: 'gallery-wrap' }, loading());
  const minRating = minRatingSelect('g-min-rating', query.get('min_rating') || '');
  const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter outputs' },
    h('label', { for: minRating.id }, 'Rating', minRating));
  filters.addEventListener('submit', (e) => e.preventDefault());
  let controller = null;

  function syncUrl() {
    const s = new URLSearchParams();
    if (minRating.value) s.set('min_rating', minRating.value);
    if (offset) s.set('offset', offset);
    const text = s.toString();
    history.replaceState({}, '', `/gallery${text ? `?${text}` : ''}`);
  }

  async function load() {
    controller?.abort();
    controller = new AbortController();
    try {
      const data = await get('/api/gallery', { limit: LIMIT, offset, min_rating: minRating.value },
        { signal: controller.signal });
      const items = data.items || [];
      for (const it of items) cache.set(it.run.id, it);
      fill(grid, items.length ? h('ul', { class: 'gallery' }, items.map(card))
        : h('p', { class: 'empty' }, minRating.value ? 'No outputs rated that well.'
          : 'No outputs yet. Finished runs show their videos here.'),
      pager(data.total ?? 0, offset, LIMIT, (o) => {
        offset = o;
        syncUrl();
        load();
      }));
    } catch (e) {
      if (e.name !== 'AbortError') fill(grid, errorBox(e, 'Could not load the gallery'));
    }
  }
  const reload = debounce(load, 500);
  minRating.addEventListener('change', () => {
    offset = 0;
    syncUrl();
    load();
  });
  const offs = [sse.on('output', reload), sse.on('run', (r) => r.status === 'succeeded' && reload()),
    sse.on('open', ({ first }) => first || reload())];
  main.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Gallery')), filters, grid));
  load();
  return () => {
    controller?.abort();
    reload.cancel();
    offs.forEach((f) => f());
  };
}

function card(item) {
  const r = item.run;
  const video = h('video', {
    src: item.output_url, poster: item.poster_url || undefined, preload: 'metadata', muted: true,
    loop: true, playsinline: true, 'aria-label': `Output of ${r.id}`,
  });
  const play = () => video.play().catch(() => {});
  const stop = () => video.pause();
  const link = h('a', { href: `/gallery/${encodeURIComponent(r.id)}`, class: 'thumb', 'aria-label': `Compare input and output of ${r.id}` }, video);
  for (const [ev, fn] of [['mouseenter', play], ['mouseleave', stop], ['focus', play], ['blur', stop]]) link.addEventListener(ev, fn);
  return h('li', { class: 'gallery-item', dataset: { run: r.id } }, link,
    h('div', { class: 'caption' },
      item.prompt?.name ? h('span', { class: 'strong', title: item.prompt.prompt }, item.prompt.name) : null,
      h('a', { href: `/runs/${encodeURIComponent(r.id)}`, class: 'mono' }, r.id),
      r.rating ? starsBadge(r.rating) : null,
      h('span', { class: 'muted small-text' }, fmtWeights(r.params?.weights)),
      h('span', { class: 'muted small-text' }, fmtTime(r.finished_at || r.created_at))));
}

// Input and output URLs of a run that is not in the grid's cache (a deep link).
async function lookup(runId) {
  if (cache.has(runId)) return cache.get(runId);
  try {
    const data = await get('/api/gallery', { run: runId, limit: 1 });
    const it = (data.items || []).find((x) => x.run.id === runId);
    if (it) return it;
  } catch {
    /* older servers: build it from the run and its prompt */
  }
  const run = await get(`/api/runs/${encodeURIComponent(runId)}`);
  const out = (run.outputs || []).find((o) => basename(o.name) === basename(run.output_video))
    || (run.outputs || []).find((o) => /\.mp4$/i.test(o.name));
  const prompt = await get(`/api/prompts/${encodeURIComponent(run.prompt_id)}`);
  const input = prompt.input_video
    ? `/api/inputs/${encodeURIComponent(prompt.id)}/files/${encodeURIComponent(basename(prompt.input_video))}` : null;
  return { run, output_url: out?.url || null, input_url: input, poster_url: null };
}

// Keeps two players together: play, pause, seek and rate of either are mirrored on the other.
// Each handler acts only when the other differs, so the mirrored event does not echo back.
function syncPair(a, b) {
  const link = (src, dst) => {
    src.addEventListener('play', () => {
      if (Math.abs(dst.currentTime - src.currentTime) > 0.05) dst.currentTime = src.currentTime;
      if (dst.paused) dst.play().catch(() => {});
    });
    src.addEventListener('pause', () => {
      if (!dst.paused) dst.pause();
      if (Math.abs(dst.currentTime - src.currentTime) > 0.05) dst.currentTime = src.currentTime;
    });
    src.addEventListener('seeking', () => {
      if (Math.abs(dst.currentTime - src.currentTime) > 0.05) dst.currentTime = src.currentTime;
    });
    src.addEventListener('ratechange', () => {
      if (dst.playbackRate !== src.playbackRate) dst.playbackRate = src.playbackRate;
    });
  };
  link(a, b);
  link(b, a);
  // Drift correction while both play (the decoders start at slightly different moments).
  const timer = setInterval(() => {
    if (!a.paused && !b.paused && Math.abs(a.currentTime - b.currentTime) > 0.1) b.currentTime = a.currentTime;
  }, 500);
  return () => clearInterval(timer);
}

function compare(main, runId) {
  const page = h('section', { class: 'page compare-page' }, loading());
  main.append(page);
  let stopSync = () => {};
  let closed = false;
  lookup(runId).then((item) => {
    if (closed) return;
    const r = item.run;
    const mk = (src, label, id) => h('figure', { class: 'pane' },
      src ? h('video', { id, src, preload: 'auto', muted: true, loop: true, playsinline: true, controls: true, 'aria-label': label })
        : h('p', { class: 'empty' }, `No ${label.toLowerCase()} video.`),
      h('figcaption', {}, label));
    const inPane = mk(item.input_url, 'Input', 'cmp-input');
    const outPane = mk(item.output_url, 'Output', 'cmp-output');
    const vin = inPane.querySelector('video');
    const vout = outPane.querySelector('video');
    const controls = h('div', { class: 'sync-bar' });
    if (vin && vout) {
      stopSync = syncPair(vout, vin);
      const btn = h('button', { type: 'button', class: 'primary', id: 'cmp-play' }, 'Play both');
      const scrub = h('input', { type: 'range', min: 0, max: 1000, value: 0, step: 1, 'aria-label': 'Position of both videos' });
      const time = h('span', { class: 'mono' }, '0.00 s');
      btn.addEventListener('click', () => (vout.paused ? vout.play().catch(() => {}) : vout.pause()));
      vout.addEventListener('play', () => { btn.textContent = 'Pause both'; });
      vout.addEventListener('pause', () => { btn.textContent = 'Play both'; });
      vout.addEventListener('timeupdate', () => {
        if (vout.duration) scrub.value = String(Math.round((vout.currentTime / vout.duration) * 1000));
        time.textContent = `${vout.currentTime.toFixed(2)} s`;
      });
      scrub.addEventListener('input', () => {
        if (vout.duration) vout.currentTime = (Number(scrub.value) / 1000) * vout.duration;
      });
      fill(controls, btn, scrub, time);
    }
    fill(page,
      h('div', { class: 'page-head' },
        h('a', { href: '/gallery', class: 'button small' }, '‹ Gallery'),
        h('h1', {}, 'Compare ', h('span', { class: 'mono' }, r.id)), statusBadge(r.status),
        h('div', { class: 'spacer' }),
        h('a', { href: `/runs/${encodeURIComponent(r.id)}`, class: 'button' }, 'Run page')),
      h('p', { class: 'muted' }, 'Prompt ', h('span', { class: 'mono' }, r.prompt_id), ' · weights ', fmtWeights(r.params?.weights),
        ' · seed ', r.params?.seed ?? '—'),
      h('div', { class: 'compare' }, inPane, outPane), controls);
  }).catch((e) => !closed && fill(page, h('h1', {}, `Compare ${runId}`), errorBox(e, 'Could not load the run')));
  return () => {
    closed = true;
    stopSync();
  };
}
