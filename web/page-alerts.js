// Alerts page: the alerts of the [[alerts]] rules (docs/alerts.md): firing ones and the
// failed-run events of the last day, or every alert recorded; each with where it was delivered.
// Refreshed every 10 s (alerts are evaluated every few seconds by workers and this server).

import { get } from './api.js';
import { errorBox, fill, fmtTime, h, loading } from './dom.js';

const BADGE = { firing: 's-failed', event: 's-failed', resolved: 's-succeeded' };

export function render(main) {
  const body = h('div', { class: 'table-wrap' }, loading());
  const all = h('input', { type: 'checkbox', id: 'alerts-all' });
  let controller = null;

  async function load() {
    controller?.abort();
    controller = new AbortController();
    try {
      const r = await get('/api/alerts', all.checked ? { all: 1 } : {}, { signal: controller.signal });
      fill(body, table(r.items || [], r.rules || []));
    } catch (e) {
      if (e.name !== 'AbortError') fill(body, errorBox(e, 'Could not load the alerts'));
    }
  }

  function deliveries(list) {
    return list.map((d) => h('span', {
      class: `chip`, title: d.last_error ? `${d.state} after ${d.attempts} attempt(s): ${d.last_error}` : `${d.state} (${d.attempts} attempt(s))`,
    }, `${d.sink} ${d.status}: ${d.state}`));
  }

  function table(items, rules) {
    if (!rules.length) {
      return h('p', { class: 'empty' }, 'No alert rules are configured. Add [[alerts]] and [alert_sinks.NAME] to the config (docs/alerts.md), then check them with cosmos alerts test.');
    }
    if (!items.length) return h('p', { class: 'empty' }, all.checked ? 'No alerts recorded yet.' : 'Nothing is firing.');
    return h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['State', 'Rule', 'Condition', 'Subject', 'Fired', 'Resolved', 'Summary', 'Deliveries']
        .map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, items.map((a) => h('tr', {},
        h('td', {}, h('span', { class: `badge ${BADGE[a.state] || ''}` }, a.state)),
        h('td', {}, a.rule),
        h('td', {}, a.condition),
        h('td', {}, a.run ? h('a', { href: `/runs/${encodeURIComponent(a.run)}`, 'data-link': '' }, a.subject) : a.subject),
        h('td', {}, fmtTime(a.fired_at)),
        h('td', {}, fmtTime(a.resolved_at)),
        h('td', {}, a.summary),
        h('td', {}, deliveries(a.deliveries || []))))));
  }

  all.addEventListener('change', load);
  fill(main,
    h('div', { class: 'page-head' }, h('h1', {}, 'Alerts'),
      h('label', {}, all, ' Resolved ones too')),
    body);
  load();
  const timer = setInterval(load, 10000);
  return () => {
    clearInterval(timer);
    controller?.abort();
  };
}
