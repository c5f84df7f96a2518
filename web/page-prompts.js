// Prompts page: searchable, paged table of prompts; a form to create one from an input folder;
// per prompt: launch a run (default parameters, then the run page), enhance the prompt text,
// and jump to its runs.

import { get, post } from './api.js';
import { basename, debounce, errorBox, fill, fmtTime, h, loading, navigate, pager, toast, toastError } from './dom.js';

const LIMIT = 50;

export function render(main, { query }) {
  const q = query.get('q') || '';
  const offset = Number(query.get('offset') || 0);
  const list = h('div', { class: 'table-wrap' }, loading());
  const search = h('input', {
    type: 'search', id: 'prompt-search', value: q, placeholder: 'Search prompt text, name or id',
    autocomplete: 'off',
  });
  const form = createForm(query.get('input_dir') || '', () => load());
  const details = h('details', { class: 'panel', open: query.has('input_dir') || query.has('new') },
    h('summary', {}, 'New prompt'), form);

  function setQuery(params) {
    const s = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(params)) {
      if (v) s.set(k, v);
      else s.delete(k);
    }
    const text = s.toString();
    history.replaceState({}, '', `/prompts${text ? `?${text}` : ''}`);
  }

  let controller = null;
  async function load(off = Number(new URLSearchParams(location.search).get('offset') || 0)) {
    controller?.abort();
    controller = new AbortController();
    try {
      const data = await get('/api/prompts', { q: search.value.trim(), limit: LIMIT, offset: off },
        { signal: controller.signal });
      fill(list, table(data.items || []),
        pager(data.total ?? 0, off, LIMIT, (o) => {
          setQuery({ offset: o || '' });
          load(o);
        }));
    } catch (e) {
      if (e.name !== 'AbortError') fill(list, errorBox(e, 'Could not load prompts'));
    }
  }

  search.addEventListener('input', debounce(() => {
    setQuery({ q: search.value.trim(), offset: '' });
    load(0);
  }, 250));

  main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('h1', {}, 'Prompts'),
      h('label', { class: 'search' }, h('span', { class: 'sr-only' }, 'Search prompts'), search)),
    details, list));
  load(offset);
  return () => controller?.abort();
}

function createForm(inputDir, created) {
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const form = h('form', { class: 'grid-form', novalidate: false },
    h('label', { class: 'wide' }, 'Prompt',
      h('textarea', { name: 'prompt', rows: 3, required: true, placeholder: 'A rainy harbour at dusk, neon reflections on wet stone…' })),
    h('label', {}, 'Input folder',
      h('input', { name: 'input_dir', required: true, value: inputDir, placeholder: '/data/shots/shot010 (color.mp4, depth.mp4, …)', spellcheck: 'false' })),
    h('label', {}, 'Name (optional)', h('input', { name: 'name', placeholder: 'derived from the prompt' })),
    h('label', { class: 'wide' }, 'Negative prompt (optional)',
      h('input', { name: 'negative_prompt', placeholder: 'the default negative prompt' })),
    h('div', { class: 'actions wide' }, h('button', { type: 'submit', class: 'primary' }, 'Create prompt'), status));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const fd = new FormData(form);
    const body = { prompt: fd.get('prompt').trim(), input_dir: fd.get('input_dir').trim() };
    for (const k of ['name', 'negative_prompt']) {
      if (fd.get(k).trim()) body[k] = fd.get(k).trim();
    }
    fill(status, 'Creating…');
    try {
      const p = await post('/api/prompts', body);
      fill(status);
      toast(`Created prompt ${p.name || p.id}`, 'ok');
      form.reset();
      created(p);
    } catch (err) {
      fill(status, errorBox(err, 'Could not create the prompt'));
    }
  });
  return form;
}

async function launch(prompt, button) {
  button.disabled = true;
  try {
    const res = await post('/api/runs', { prompt_id: prompt.id, params: {} });
    toast(`Queued run ${res.run.id}`, 'ok');
    navigate(`/runs/${encodeURIComponent(res.run.id)}`);
  } catch (e) {
    toastError(e);
    button.disabled = false;
  }
}

async function enhance(prompt, button) {
  button.disabled = true;
  try {
    const res = await post(`/api/prompts/${encodeURIComponent(prompt.id)}/enhance`, {});
    const runId = res?.run?.id;
    toast(`Enhancing ${prompt.name || prompt.id}: the new text becomes a child prompt`, 'ok');
    if (runId) navigate(`/runs/${encodeURIComponent(runId)}`);
  } catch (e) {
    toastError(e);
  } finally {
    button.disabled = false;
  }
}

function table(items) {
  if (!items.length) return h('p', { class: 'empty' }, 'No prompts yet. Create one from an input folder above, or with `cosmos create prompt`.');
  return h('table', { class: 'data' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Prompt'), h('th', { scope: 'col' }, 'Text'), h('th', { scope: 'col' }, 'Input'),
      h('th', { scope: 'col' }, 'Controls'), h('th', { scope: 'col' }, 'Video'), h('th', { scope: 'col' }, 'Created'),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')))),
    h('tbody', {}, items.map((p) => {
      const runBtn = h('button', { type: 'button', class: 'primary small', title: 'Queue a run with the default parameters' }, 'Run');
      runBtn.addEventListener('click', () => launch(p, runBtn));
      const enhBtn = h('button', { type: 'button', class: 'small', title: 'Rewrite the prompt text with the prompt upsampler' }, 'Enhance');
      enhBtn.addEventListener('click', () => enhance(p, enhBtn));
      const v = p.video || {};
      return h('tr', { dataset: { id: p.id } },
        h('td', {}, h('div', { class: 'strong' }, p.name || p.id), h('div', { class: 'mono muted' }, p.id)),
        h('td', { class: 'text-cell', title: p.prompt }, p.prompt),
        h('td', { class: 'mono', title: p.input_dir }, basename(p.input_dir)),
        h('td', {}, ['color', ...Object.keys(p.controls || {})].map((c) => h('span', { class: 'chip' }, c))),
        h('td', { class: 'mono nowrap' }, v.width ? `${v.width}×${v.height} · ${v.frames}f @ ${v.fps}` : '—'),
        h('td', { class: 'nowrap' }, fmtTime(p.created_at)),
        h('td', { class: 'row-actions' }, runBtn, enhBtn,
          h('a', { href: `/runs?prompt=${encodeURIComponent(p.id)}`, class: 'button small' }, 'Runs')));
    })));
}
