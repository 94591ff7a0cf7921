// common.js: what both pages share — calling the JSON API and turning its
// answers into messages a person can act on. No framework, no eval, no
// inline code: the pages are served with a strict Content-Security-Policy.

const DEFAULT_TIMEOUT_MS = 15000;

// Calls the API on this origin. Never throws: network failures and timeouts
// come back as { ok: false, status: 0, error: "network" | "timeout" }.
// Result: { ok, status, data (parsed JSON or null), retryAfter (seconds or
// null), error (the API's "error" code or ""), detail, fields }.
// `json: true` sends Content-Type: application/json without a body: the
// header the server demands when the refresh cookie authenticates a request
// (no cross-site form can send it).
export async function api(method, path, { body, token, timeoutMs, json } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined || json) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), timeoutMs || DEFAULT_TIMEOUT_MS);
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'same-origin',
      signal: ctrl.signal,
    });
  } catch (e) {
    clearTimeout(timer);
    const timeout = e && e.name === 'AbortError';
    return { ok: false, status: 0, data: null, retryAfter: null,
             error: timeout ? 'timeout' : 'network', detail: '', fields: [] };
  }
  let data = null;
  try {
    const text = await res.text();
    if (text) data = JSON.parse(text);
  } catch (e) {
    data = null;        // a proxy's HTML error page, a cut connection...
  } finally {
    clearTimeout(timer);
  }
  const retry = Number.parseInt(res.headers.get('Retry-After') || '', 10);
  const isObj = data !== null && typeof data === 'object';
  return {
    ok: res.ok,
    status: res.status,
    data,
    retryAfter: Number.isFinite(retry) && retry >= 0 ? retry : null,
    error: isObj && typeof data.error === 'string' ? data.error : '',
    detail: isObj && typeof data.detail === 'string' ? data.detail : '',
    fields: isObj && Array.isArray(data.fields) ? data.fields.filter((f) => typeof f === 'string') : [],
  };
}

function seconds(n) {
  return n === 1 ? '1 second' : `${n} seconds`;
}

// A headline for a failed call; `context` names what was attempted
// ("login", "register", ...) where the same status means different things.
export function describeFailure(r, context) {
  if (r.status === 0) {
    return r.error === 'timeout'
      ? 'The server did not answer in time. Check that it is still running, then try again.'
      : 'Cannot reach the server (network error). Check that it is running, then try again.';
  }
  const wait = r.retryAfter !== null ? ` Try again in ${seconds(r.retryAfter)}.` : ' Try again later.';
  switch (r.status) {
    case 400: return 'The server could not read the request.';
    case 401:
      if (r.error === 'invalid_credentials') return 'Wrong username or password.';
      if (r.error === 'invalid_grant') return 'Your session has ended. Please log in again.';
      if (r.error === 'invalid_code') return 'That code is wrong or was already used.';
      if (r.error === 'invalid_mfa_token') return 'The sign-in took too long. Please log in again.';
      return 'Your session has expired. Please log in again.';
    case 403:
      if (r.error === 'wrong_password') return 'The current password is not correct.';
      if (r.error === 'invalid_code') return 'That code is wrong or was already used.';
      return 'You are not allowed to do that.';
    case 404: return 'Not found on this server.';
    case 409: return context === 'register'
      ? 'That username is already taken. Choose another one.'
      : 'That conflicts with the current state on the server.';
    case 413: return 'That is too large for the server.';
    case 415: return 'The server expected JSON.';
    case 422:
      if (r.error === 'invalid_code') return 'That code does not match. Check the time on your phone and try the next code.';
      return r.fields.length ? 'Please correct the highlighted fields.' : 'The server refused these values.';
    case 429: return r.error === 'locked'
      ? `Too many failed attempts: this account is locked for now.${wait}`
      : `Too many attempts.${wait}`;
    case 503: return `The server is busy.${wait}`;
    default:
      return r.status >= 500
        ? `The server had a problem (HTTP ${r.status}).`
        : `The request failed (HTTP ${r.status}).`;
  }
}

const normalise = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

// Replaces the contents of a message box with a headline and, when the
// server gave one, its own "detail" text underneath (unless it says the
// same thing as the headline).
export function showMessage(box, kind, headline, detail) {
  box.replaceChildren();
  box.className = `msg msg-${kind}`;
  const p = document.createElement('p');
  p.textContent = headline;
  box.append(p);
  if (detail && normalise(detail) !== normalise(headline)) {
    const d = document.createElement('p');
    d.className = 'detail';
    d.textContent = `Server: ${detail}`;
    box.append(d);
  }
}

export function clearMessage(box) {
  box.replaceChildren();
  box.className = 'msg';
}

export function showFailure(box, r, context) {
  showMessage(box, 'error', describeFailure(r, context), r.detail);
}

// Disables a button for `secs` seconds with a countdown in its label, so a
// 429 / 503 with Retry-After is respected rather than hammered.
export function holdButton(button, secs) {
  if (!secs || secs <= 0 || button.dataset.held) return;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  button.dataset.held = '1';
  button.disabled = true;
  let left = Math.min(secs, 3600);
  const tick = () => {
    if (left <= 0) {
      clearInterval(timer);
      delete button.dataset.held;
      button.disabled = false;
      button.textContent = label;
      return;
    }
    button.textContent = `${label} (${left} s)`;
    left -= 1;
  };
  const timer = setInterval(tick, 1000);
  tick();
}

// Marks a button busy while `work` runs; returns what `work` returns.
export async function busy(button, work) {
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    button.removeAttribute('aria-busy');
    if (!button.dataset.held) button.disabled = false;
  }
}

// Shows the plain-HTTP banner when the page itself did not come over TLS.
export function warnIfPlainHttp() {
  const banner = document.getElementById('plain-http-warning');
  if (banner && window.location.protocol === 'http:') banner.hidden = false;
}
