// A run's rating, 1 to 5 stars (as `cosmos rate`): the run page's control (five toggle buttons
// and Clear; saved with POST /api/runs/ID/rating), the read-only stars the lists show, and the
// minimum-rating filter of the runs list and the gallery (?min_rating=N).

import { post } from './api.js';
import { h, toast, toastError } from './dom.js';

export const MAX_STARS = 5;

// "★★★★☆" for 4, "—" when not rated.
export function starsText(rating) {
  return rating ? '★'.repeat(rating) + '☆'.repeat(MAX_STARS - rating) : '—';
}

export function starsBadge(rating) {
  const label = rating ? `rated ${rating} of ${MAX_STARS}` : 'not rated';
  return h('span', { class: `stars${rating ? '' : ' muted'}`, title: label, 'aria-label': label, dataset: { rating: rating ?? '' } },
    starsText(rating));
}

// A <select> of "any" and "★★★★ or more" (value N), for a filter form.
export function minRatingSelect(id, value = '') {
  const options = [h('option', { value: '' }, 'any')];
  for (let n = MAX_STARS; n >= 1; n--) {
    options.push(h('option', { value: String(n) }, n === MAX_STARS ? `${'★'.repeat(n)} only` : `${'★'.repeat(n)} or more`));
  }
  return h('select', { name: 'min_rating', id, value }, options);
}

// The run page's control: a group of five star buttons (aria-pressed on the one rated) and a
// Clear button. `set(rating)` redraws it when the run changes elsewhere (a `run` event).
export function ratingControl(run, onSaved) {
  let current = run.rating ?? null;
  let busy = false;
  const buttons = Array.from({ length: MAX_STARS }, (_, i) => h('button', {
    type: 'button', class: 'star', 'aria-label': `${i + 1} star${i ? 's' : ''}`, title: `Rate ${i + 1} of ${MAX_STARS}`,
  }, '★'));
  const clear = h('button', { type: 'button', class: 'small', 'aria-label': 'Clear the rating' }, 'Clear');
  const el = h('div', { class: 'rating', role: 'group', 'aria-label': 'Rating', id: 'run-rating' }, buttons, clear);

  function show() {
    buttons.forEach((b, i) => {
      b.classList.toggle('on', current !== null && i < current);
      b.setAttribute('aria-pressed', String(current === i + 1));
    });
    clear.hidden = current === null;
    el.dataset.rating = current === null ? '' : String(current);
  }

  async function save(value) {
    if (busy) return;
    busy = true;
    try {
      const r = await post(`/api/runs/${encodeURIComponent(run.id)}/rating`, { rating: value });
      current = r.rating ?? null;
      show();
      toast(current ? `Rated ${run.id} ${current} of ${MAX_STARS}` : `Cleared the rating of ${run.id}`, 'ok');
      onSaved?.(r);
    } catch (e) {
      toastError(e);
    } finally {
      busy = false;
    }
  }

  buttons.forEach((b, i) => b.addEventListener('click', () => save(i + 1)));
  clear.addEventListener('click', () => save(null));
  show();
  return {
    el,
    set(rating) {
      current = rating ?? null;
      show();
    },
  };
}
