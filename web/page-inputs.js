// Inputs page: the input sets prompts were made from, each with a thumbnail per video (input
// and control passes); a thumbnail opens an inline player, and "New prompt" starts the prompt
// form with that folder.

import { get } from './api.js';
import { basename, errorBox, fill, h, loading } from './dom.js';

function videoTile(v) {
  const label = `${v.modality || 'input'} · ${basename(v.path)}`;
  const tile = h('figure', { class: 'tile' });
  const open = () => {
    const player = h('video', { src: v.url, controls: true, autoplay: true, muted: true, loop: true, playsinline: true, 'aria-label': label });
    fill(tile, player, caption());
    player.focus();
  };
  const caption = () => h('figcaption', {},
    h('span', { class: 'chip' }, v.modality || 'input'),
    h('span', { class: 'muted small-text mono' }, v.width ? `${v.width}×${v.height} · ${v.frames}f @ ${v.fps}` : basename(v.path)));
  const button = h('button', { type: 'button', class: 'thumb', 'aria-label': `Play ${label}` },
    // No still for a control pass: its first frame, decoded by the browser, stands in.
    v.thumb_url ? h('img', { src: v.thumb_url, alt: '', loading: 'lazy' })
      : h('video', { src: `${v.url}#t=0.1`, preload: 'metadata', muted: true, tabindex: '-1', 'aria-hidden': 'true' }),
    h('span', { class: 'play', 'aria-hidden': 'true' }, '▶'));
  button.addEventListener('click', open);
  fill(tile, button, caption());
  return tile;
}

export function render(main) {
  const list = h('div', {}, loading());
  let controller = new AbortController();
  get('/api/inputs', {}, { signal: controller.signal }).then((data) => {
    const items = data.items || [];
    // One card per folder; the prompts made from it are listed on it.
    const byDir = new Map();
    for (const it of items) {
      if (!byDir.has(it.input_dir)) byDir.set(it.input_dir, { ...it, prompts: [] });
      byDir.get(it.input_dir).prompts.push(it.prompt_id);
    }
    fill(list, byDir.size ? h('ul', { class: 'inputs' }, [...byDir.values()].map((set) => h('li', { class: 'card input-set' },
      h('div', { class: 'card-head' },
        h('h2', { title: set.input_dir }, basename(set.input_dir)),
        h('span', { class: 'muted mono small-text path' }, set.input_dir),
        h('div', { class: 'spacer' }),
        h('a', { href: `/prompts?input_dir=${encodeURIComponent(set.input_dir)}`, class: 'button small' }, 'New prompt')),
      h('div', { class: 'tiles' }, (set.videos || []).map(videoTile)),
      h('div', { class: 'small-text muted' }, 'Prompts: ', set.prompts.map((id) => h('a', { href: `/runs?prompt=${encodeURIComponent(id)}`, class: 'chip mono' }, id))))))
      : h('p', { class: 'empty' }, 'No input sets yet: create a prompt from a folder of videos (color.mp4, depth.mp4, segmentation.mp4…).'));
  }).catch((e) => e.name !== 'AbortError' && fill(list, errorBox(e, 'Could not load inputs')));
  main.append(h('section', { class: 'page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Inputs')), list));
  return () => controller.abort();
}
