// "Run again with changes": a form prefilled from a run's parameters (the model, control weights
// as sliders with their numbers, steps, guidance, sigma_max, seed, fps, strengths, GPUs,
// offload, host, priority; Transfer2.5's resolution), a live preview of the spec the model would
// get (POST /api/spec/preview) and submit (POST /api/runs), which opens the new run's page.
// Fields of the other model family are disabled (and so not sent): each family has its rules.

import { get, post } from './api.js';
import { debounce, errorBox, fill, h, navigate, toast } from './dom.js';

const BASE_MODALITIES = ['vis', 'edge', 'depth', 'seg'];
const STRENGTHS = ['very_low', 'low', 'medium', 'high', 'very_high'];
const OFFLOAD = ['diffusion_transformer', 'text_encoder_model', 'guardrail_models', 'prompt_upsampler'];

// A range slider and a number field bound together under one label.
function slider(name, label, value, { min, max, step, numMax }) {
  const id = `rr-${name.replace(/\W/g, '-')}`;
  const range = h('input', { type: 'range', min, max, step, value, 'aria-label': `${label} slider`, tabindex: '-1' });
  const number = h('input', { type: 'number', id, name, min, max: numMax ?? max, step, value, class: 'num', required: true });
  range.addEventListener('input', () => {
    number.value = range.value;
    number.dispatchEvent(new Event('input', { bubbles: true }));
  });
  number.addEventListener('input', () => {
    range.value = number.value;
  });
  return h('div', { class: 'slider' }, h('label', { for: id }, label), range, number);
}

function select(name, label, value, options) {
  const id = `rr-${name}`;
  return h('div', { class: 'field' }, h('label', { for: id }, label),
    h('select', { id, name, value: String(value) }, options.map((o) => h('option', { value: String(o) }, String(o).replace('_', ' ')))));
}

// The form's family-specific parts: guidance's range, and which fields exist.
const FAMILY = {
  transfer1: { guidance: { min: 1, max: 20, step: 0.5 }, weightMax: 10 },
  'transfer2.5': { guidance: { min: 0, max: 7, step: 1 }, weightMax: 1 },
};

function applyFamily(form, family) {
  const f = FAMILY[family] ? family : 'transfer1';
  form.dataset.family = f;
  for (const el of form.querySelectorAll('[data-only]')) {
    const on = el.dataset.only === f;
    el.hidden = !on;
    el.disabled = !on;
  }
  for (const input of form.querySelectorAll('[name="guidance"], input[aria-label="Guidance slider"]')) {
    Object.assign(input, FAMILY[f].guidance);
  }
  for (const input of form.querySelectorAll('input[type="number"][name^="weight."]')) input.max = FAMILY[f].weightMax;
}

export function rerunForm(run) {
  const p = run.params || {};
  const modelSelect = h('select', { id: 'rr-model', name: 'model' },
    h('option', { value: run.model_name || run.model || 'transfer1' }, run.model_name || run.model || 'transfer1'));
  const families = { [run.model_name || run.model || 'transfer1']: run.model || 'transfer1' };
  const modalities = [...new Set([...BASE_MODALITIES, ...Object.keys(p.weights || {})])];
  const weights = modalities.map((m) => slider(`weight.${m}`, m, p.weights?.[m] ?? 0, { min: 0, max: 1, step: 0.05, numMax: 10 }));
  const hostSelect = h('select', { id: 'rr-host', name: 'host' }, h('option', { value: '' }, 'default'));
  const seed = h('input', { type: 'number', id: 'rr-seed', name: 'seed', min: 1, max: 4294967295, step: 1, value: p.seed ?? 1, class: 'num', required: true });
  const dice = h('button', { type: 'button', class: 'small', title: 'A random seed' }, 'Random');
  dice.addEventListener('click', () => {
    seed.value = String(1 + Math.floor(Math.random() * 4294967294));
    seed.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const spec = h('pre', { class: 'code spec', id: 'rr-spec', 'aria-live': 'off' }, 'Preparing preview…');
  const command = h('pre', { class: 'code command' });
  const previewStatus = h('div', { 'aria-live': 'polite' });
  const submitStatus = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Queue the new run');

  const form = h('form', { class: 'rerun', 'aria-label': 'Run again with changes' },
    h('div', { class: 'rerun-fields' },
      h('fieldset', {}, h('legend', {}, 'Control weights'), weights),
      h('fieldset', {}, h('legend', {}, 'Sampling'),
        h('div', { class: 'field' }, h('label', { for: 'rr-model' }, 'Model'), modelSelect),
        slider('num_steps', 'Steps', p.num_steps ?? 35, { min: 1, max: 100, step: 1 }),
        slider('guidance', 'Guidance', p.guidance ?? 7, { min: 1, max: 20, step: 0.5 }),
        h('fieldset', { class: 'plain', 'data-only': 'transfer1' },
          slider('sigma_max', 'Sigma max', p.sigma_max ?? 70, { min: 0, max: 80, step: 1 }),
          h('div', { class: 'field' }, h('label', { for: 'rr-fps' }, 'FPS'),
            h('input', { type: 'number', id: 'rr-fps', name: 'fps', min: 1, max: 60, step: 1, value: p.fps ?? 24, class: 'num', required: true }))),
        h('fieldset', { class: 'plain', 'data-only': 'transfer2.5' },
          select('resolution', 'Resolution', p.resolution || '720', ['256', '480', '720', '1080'])),
        h('div', { class: 'slider' }, h('label', { for: 'rr-seed' }, 'Seed'), dice, seed),
        select('blur_strength', 'Blur strength', p.blur_strength ?? 'medium', STRENGTHS),
        select('canny_threshold', 'Canny threshold', p.canny_threshold ?? 'medium', STRENGTHS)),
      h('fieldset', {}, h('legend', {}, 'Placement'),
        select('num_gpus', 'GPUs', p.num_gpus ?? 1, [1, 2, 4, 8]),
        h('div', { class: 'field' }, h('label', { for: 'rr-host' }, 'Host'), hostSelect),
        h('div', { class: 'field' }, h('label', { for: 'rr-priority' }, 'Priority'),
          h('input', { type: 'number', id: 'rr-priority', name: 'priority', step: 1, value: 0, class: 'num' })),
        h('div', { class: 'checks', role: 'group', 'aria-label': 'Offload' }, h('span', { class: 'label' }, 'Offload'),
          OFFLOAD.map((o) => h('label', { class: 'check' },
            h('input', { type: 'checkbox', name: 'offload', value: o, checked: (p.offload || []).includes(o) }), o.replace(/_/g, ' ')))))),
    h('div', { class: 'rerun-preview' },
      h('h3', {}, 'Spec that will be sent'), previewStatus, spec,
      h('h3', {}, 'Command'), command,
      h('div', { class: 'actions' }, submit, submitStatus)));

  get('/api/models').then((d) => {
    for (const m of d.items || []) {
      families[m.name] = m.family;
      if (![...modelSelect.options].some((o) => o.value === m.name)) {
        modelSelect.append(h('option', { value: m.name }, m.kind === 'file' ? `${m.name} (${m.family})` : m.name));
      }
    }
  }).catch(() => {});
  modelSelect.addEventListener('change', () => applyFamily(form, families[modelSelect.value] || modelSelect.value));

  get('/api/hosts').then((d) => {
    for (const x of d.items || []) hostSelect.append(h('option', { value: x.name }, x.name));
    if (run.host) hostSelect.value = run.host;
  }).catch(() => {});

  function body() {
    const fd = new FormData(form);
    const num = (k) => Number(fd.get(k));
    const params = {
      model: fd.get('model'),
      weights: Object.fromEntries(modalities.map((m) => [m, Number(fd.get(`weight.${m}`))])),
      num_steps: num('num_steps'),
      guidance: num('guidance'),
      seed: num('seed'),
      blur_strength: fd.get('blur_strength'),
      canny_threshold: fd.get('canny_threshold'),
      num_gpus: num('num_gpus'),
      offload: fd.getAll('offload'),
    };
    // Only the fields of the chosen family are enabled, so only they are sent.
    for (const k of ['sigma_max', 'fps']) if (fd.has(k)) params[k] = num(k);
    if (fd.has('resolution')) params.resolution = fd.get('resolution');
    const b = { prompt_id: run.prompt_id, parent_run_id: run.id, params };
    if (fd.get('host')) b.host = fd.get('host');
    if (fd.get('priority') && Number(fd.get('priority')) !== 0) b.priority = num('priority');
    return b;
  }

  let previewController = null;
  const preview = debounce(async () => {
    if (!form.checkValidity()) {
      fill(previewStatus, h('p', { class: 'warn' }, 'Fix the highlighted fields to see the spec.'));
      return;
    }
    previewController?.abort();
    previewController = new AbortController();
    try {
      const res = await post('/api/spec/preview', body(), { signal: previewController.signal });
      fill(previewStatus);
      spec.textContent = JSON.stringify(res.spec, null, 2);
      command.textContent = (res.command || []).map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
      form.dataset.preview = 'ok';
    } catch (e) {
      if (e.name === 'AbortError') return;
      fill(previewStatus, errorBox(e, 'Not valid'));
      form.dataset.preview = 'error';
    }
  }, 250);
  form.addEventListener('input', preview);
  form.addEventListener('change', preview);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    submit.disabled = true;
    fill(submitStatus, 'Queueing…');
    try {
      const res = await post('/api/runs', body());
      toast(`Queued run ${res.run.id}`, 'ok');
      navigate(`/runs/${encodeURIComponent(res.run.id)}`);
    } catch (err) {
      fill(submitStatus, errorBox(err, 'Could not queue the run'));
      submit.disabled = false;
    }
  });
  applyFamily(form, run.model || 'transfer1');
  preview();
  return form;
}
