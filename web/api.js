// The pages' one door to the JSON API: fetch with JSON bodies, the CSRF double-submit header on
// every state-changing request (X-Cosmos-CSRF = the cosmos_csrf cookie), and API errors turned
// into ApiError {status, code, message, hint} so pages can show the server's message and hint.

export class ApiError extends Error {
  constructor(status, code, message, hint = '') {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
  }
}

// The value of the cosmos_csrf cookie the server sets on every page load ('' when absent).
export function csrfToken() {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === 'cosmos_csrf') return decodeURIComponent(v.join('='));
  }
  return '';
}

// Builds "?a=1&b=2" from an object, leaving out empty values.
export function qs(params = {}) {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') s.set(k, String(v));
  }
  const text = s.toString();
  return text ? `?${text}` : '';
}

export async function api(path, { method = 'GET', body, signal } = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, signal, credentials: 'same-origin' };
  if (method !== 'GET' && method !== 'HEAD') {
    headers['Content-Type'] = 'application/json';
    headers['X-Cosmos-CSRF'] = csrfToken();
    init.body = JSON.stringify(body ?? {});
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'Cannot reach the cosmos server.',
      'Is `cosmos serve` (or `cosmos ui`) still running?');
  }
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('application/json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const err = data && data.error;
    if (err) throw new ApiError(res.status, err.code || 'error', err.message || res.statusText, err.hint || '');
    throw new ApiError(res.status, 'http', `${res.status} ${res.statusText}`, typeof data === 'string' ? data.slice(0, 200) : '');
  }
  return data;
}

export const get = (path, params, opts = {}) => api(path + qs(params), opts);
export const post = (path, body, opts = {}) => api(path, { ...opts, method: 'POST', body });

// Text of a run's log from byte `offset`; returns {text, size} (size from X-Log-Size).
export async function getLog(runId, offset = 0, { signal } = {}) {
  const res = await fetch(`/api/runs/${encodeURIComponent(runId)}/log?offset=${offset}`,
    { signal, credentials: 'same-origin' });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    const err = data && data.error;
    throw new ApiError(res.status, err?.code || 'http', err?.message || res.statusText, err?.hint || '');
  }
  const buf = await res.arrayBuffer();
  const size = Number(res.headers.get('X-Log-Size') ?? offset + buf.byteLength);
  return { bytes: new Uint8Array(buf), size };
}
