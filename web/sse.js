// One EventSource for the whole app (GET /api/events): pages subscribe to `run`, `log`, `job`,
// `output` and `queue` events with on(); the run page narrows log events to its run with follow(runId).
// The browser reconnects by itself; an `open` pseudo-event ({first}: false after a reconnect)
// lets pages refetch what they may have missed. The header's live indicator shows the connection state.

const TYPES = ['run', 'log', 'job', 'output', 'queue'];
const handlers = new Map();
let source = null;
let runFilter = null;
let opened = 0;

function emit(type, data) {
  for (const fn of handlers.get(type) || []) {
    try {
      fn(data);
    } catch (e) {
      console.error(`sse ${type} handler`, e);
    }
  }
}

function setLive(state) {
  const el = document.getElementById('live');
  if (!el) return;
  el.dataset.state = state;
  el.querySelector('.live-text').textContent = { open: 'live', connecting: 'connecting', closed: 'offline' }[state];
}

function open() {
  if (source) source.close();
  const url = '/api/events' + (runFilter ? `?run=${encodeURIComponent(runFilter)}` : '');
  source = new EventSource(url);
  setLive('connecting');
  source.onopen = () => {
    setLive('open');
    emit('open', { first: opened++ === 0 });
  };
  source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting');
  for (const type of TYPES) {
    source.addEventListener(type, (e) => {
      let data;
      try {
        data = JSON.parse(e.data);
      } catch {
        return;
      }
      emit(type, data);
    });
  }
}

// Subscribes to an event type; returns the function that unsubscribes.
export function on(type, fn) {
  if (!handlers.has(type)) handlers.set(type, new Set());
  handlers.get(type).add(fn);
  if (!source) open();
  return () => handlers.get(type).delete(fn);
}

// Streams log events of `runId` only (null: back to the unfiltered stream). Reopens the one
// EventSource only when the filter changes.
export function follow(runId) {
  if (runId === runFilter && source) return;
  runFilter = runId;
  opened = 0;
  open();
}

export function start() {
  if (!source) open();
}
