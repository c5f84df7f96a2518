// Entry module of the web UI: routes URLs to page modules (history API), intercepts in-app link
// clicks, keeps the header's navigation and queue count current, and starts the one live
// EventSource (sse.js). Each page module exports render(main, route) and may return a cleanup
// function that the router calls before the next page renders.

import { get } from './api.js';
import { debounce, fill, h } from './dom.js';
import * as sse from './sse.js';
import * as inputs from './page-inputs.js';
import * as prompts from './page-prompts.js';
import * as runs from './page-runs.js';
import * as run from './page-run.js';
import * as queue from './page-queue.js';
import * as gallery from './page-gallery.js';
import * as hosts from './page-hosts.js';
import * as alerts from './page-alerts.js';

const ROUTES = [
  { re: /^\/$/, page: runs, nav: '/runs', title: 'Runs' },
  { re: /^\/inputs\/?$/, page: inputs, nav: '/inputs', title: 'Inputs' },
  { re: /^\/prompts\/?$/, page: prompts, nav: '/prompts', title: 'Prompts' },
  { re: /^\/runs\/?$/, page: runs, nav: '/runs', title: 'Runs' },
  { re: /^\/runs\/([^/]+)\/?$/, page: run, nav: '/runs', title: 'Run' },
  { re: /^\/queue\/?$/, page: queue, nav: '/queue', title: 'Queue' },
  { re: /^\/gallery\/?$/, page: gallery, nav: '/gallery', title: 'Gallery' },
  { re: /^\/gallery\/([^/]+)\/?$/, page: gallery, nav: '/gallery', title: 'Compare' },
  { re: /^\/hosts\/?$/, page: hosts, nav: '/hosts', title: 'Hosts' },
  { re: /^\/alerts\/?$/, page: alerts, nav: '/alerts', title: 'Alerts' },
];

let cleanup = null;
let currentPath = null;

function render() {
  const main = document.getElementById('main');
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  const samePage = path === currentPath;
  currentPath = path;
  const route = ROUTES.find((r) => r.re.test(path));
  for (const a of document.querySelectorAll('header nav a')) {
    if (route && a.getAttribute('href') === route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (!route) {
    document.title = 'Not found · cosmos';
    fill(main, h('section', { class: 'page' }, h('h1', {}, 'Not found'),
      h('p', {}, 'No page at ', h('code', {}, path), '. ', h('a', { href: '/runs' }, 'Go to runs'), '.')));
    return;
  }
  document.title = `${route.title} · cosmos`;
  const params = path.match(route.re).slice(1).map(decodeURIComponent);
  main.replaceChildren();
  cleanup = route.page.render(main, { params, query, path });
  if (!samePage) {
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  }
}

// Same-origin links to pages are handled here; /api and /assets links (files, videos) are not.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || /^\/(api|assets)\//.test(url.pathname)) return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) {
    history.pushState({}, '', url.pathname + url.search);
    render();
  }
});

window.addEventListener('popstate', render);
window.addEventListener('cosmos:navigate', render);

// Header: how many jobs are queued or running.
const refreshQueueCount = debounce(async () => {
  try {
    const q = await get('/api/queue');
    const el = document.getElementById('queue-count');
    const n = (q.items || []).filter((j) => j.state === 'queued' || j.state === 'running').length;
    el.hidden = n === 0;
    el.textContent = String(n);
    el.title = q.paused ? `${n} jobs · queue paused` : `${n} jobs`;
    el.classList.toggle('paused', !!q.paused);
  } catch {
    /* the pages show errors; the count is a nicety */
  }
}, 300);

// `/?token=T` (a server bound beyond loopback) has set its cookie by now: drop the token from
// the address bar and the history so it is not shared with the URL.
if (new URLSearchParams(location.search).has('token')) {
  const q = new URLSearchParams(location.search);
  q.delete('token');
  history.replaceState({}, '', location.pathname + (q.toString() ? `?${q}` : ''));
}

sse.on('job', refreshQueueCount);
sse.on('queue', refreshQueueCount);
sse.on('open', refreshQueueCount);
sse.start();
refreshQueueCount();
render();
