// app.js: the account page — register, log in, show /api/me, refresh,
// log out, change password. Tokens are kept in this module's memory only
// (never localStorage or sessionStorage): a script injected later could read
// storage, and a reload simply signs this tab out.

import {
  api, busy, clearMessage, describeFailure, holdButton, showFailure, showMessage,
  warnIfPlainHttp,
} from './common.js';

const $ = (id) => document.getElementById(id);

const session = { access: '', refresh: '', expiresAt: 0, user: null };
let refreshTimer = 0;
let tickTimer = 0;
let refreshing = null;          // the one refresh in flight, shared by callers

const USERNAME_RE = /^[A-Za-z0-9._-]{3,64}$/;
const utf8Length = (s) => new TextEncoder().encode(s).length;

// API field names -> input ids, per form, for 422 answers.
const FIELD_INPUTS = {
  login: { username: 'login-username', password: 'login-password' },
  register: { username: 'register-username', password: 'register-password' },
  password: { old_password: 'old-password', new_password: 'new-password' },
};

/* ---- field errors ---- */

function setFieldError(inputId, text) {
  const input = $(inputId);
  const err = $(`${inputId}-err`);
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
  if (err) err.textContent = text;
}

function clearFieldErrors(form) {
  for (const input of form.querySelectorAll('input[id]')) setFieldError(input.id, '');
}

function focusFirstInvalid(form) {
  const bad = form.querySelector('input[aria-invalid="true"]');
  if (bad) bad.focus();
}

// Marks the inputs a 422 names (in "fields", or implied by the error code).
function markServerFields(form, kind, r) {
  const map = FIELD_INPUTS[kind];
  const names = [...r.fields];
  if (r.error === 'invalid_username') names.push('username');
  if (r.error === 'invalid_password') names.push(kind === 'password' ? 'new_password' : 'password');
  for (const name of names) {
    if (map[name]) setFieldError(map[name], r.detail || 'Refused by the server.');
  }
  focusFirstInvalid(form);
}

// Shows a failed call in `box`; 429 and 503 also hold `button` for Retry-After.
function reportFailure(box, r, context, button) {
  showFailure(box, r, context);
  if ((r.status === 429 || r.status === 503) && button) holdButton(button, r.retryAfter || 1);
}

/* ---- session ---- */

function setTokens(data) {
  session.access = data.access_token;
  session.refresh = data.refresh_token;
  const ttl = Number(data.expires_in) > 0 ? Number(data.expires_in) : 900;
  session.expiresAt = Date.now() + ttl * 1000;
  scheduleRefresh();
  showExpiry();
}

// Refreshes 30 s before the access token expires (at most at 4/5 of its life).
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const left = session.expiresAt - Date.now();
  const delay = Math.max(5000, Math.min(left - 30000, left * 0.8));
  refreshTimer = setTimeout(() => { refreshTokens(true); }, delay);
}

function formatLeft(ms) {
  if (ms <= 0) return 'expired';
  const s = Math.round(ms / 1000);
  const m = Math.floor(s / 60);
  return m > 0 ? `valid for ${m} min ${s % 60} s` : `valid for ${s} s`;
}

function showExpiry() {
  $('token-expiry').textContent = session.access ? formatLeft(session.expiresAt - Date.now()) : '—';
}

// One refresh at a time; resolves to true when new tokens are in place.
function refreshTokens(quiet) {
  if (!refreshing) {
    refreshing = doRefresh(quiet).finally(() => { refreshing = null; });
  }
  return refreshing;
}

async function doRefresh(quiet) {
  if (!session.refresh) return false;
  const r = await api('POST', '/api/token/refresh', { body: { refresh_token: session.refresh } });
  if (r.ok && r.data && r.data.access_token) {
    setTokens(r.data);
    return true;
  }
  if (r.status === 401) {
    endSession('warn', describeFailure(r, 'refresh'), r.detail);
    return false;
  }
  // A network error or a busy server: keep the session, try again soon.
  if (!quiet) reportFailure($('account-msg'), r, 'refresh', $('refresh-button'));
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => { refreshTokens(true); }, 15000);
  return false;
}

// Calls a token-protected endpoint; on a 401 refreshes once and retries.
async function authed(method, path, body) {
  let r = await api(method, path, { body, token: session.access });
  if (r.status === 401 && session.refresh && await refreshTokens(true)) {
    r = await api(method, path, { body, token: session.access });
  }
  return r;
}

function endSession(kind, headline, detail) {
  const name = session.user ? session.user.username : '';
  clearTimeout(refreshTimer);
  clearInterval(tickTimer);
  session.access = '';
  session.refresh = '';
  session.expiresAt = 0;
  session.user = null;
  $('password-form').reset();
  clearFieldErrors($('password-form'));
  clearMessage($('password-msg'));
  clearMessage($('account-msg'));
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  document.title = 'Portcullis — account';
  const box = $('login-msg');
  if (headline) showMessage(box, kind, headline, detail);
  else clearMessage(box);
  if (name) $('login-username').value = name;
  $('login-password').value = '';
  (name ? $('login-password') : $('login-username')).focus();
}

function showUser(user) {
  session.user = user;
  $('me-username').textContent = user.username;
  $('me-avatar').textContent = user.username.slice(0, 1);
  $('me-role').textContent = user.role;
  $('me-role').className = `badge ${user.role === 'admin' ? 'badge-info' : ''}`;
  $('me-role-text').textContent = user.role === 'admin' ? 'admin (can manage users)' : user.role;
  $('me-id').textContent = String(user.id);
  $('me-status').textContent = user.disabled ? 'disabled' : 'active';
  const created = $('me-created');
  created.dateTime = user.created_at;
  const when = new Date(user.created_at);
  created.textContent = Number.isNaN(when.getTime()) ? user.created_at : when.toLocaleString();
  $('password-username').value = user.username;
  document.title = `${user.username} — Portcullis`;
}

function enterSignedIn(user) {
  showUser(user);
  clearMessage($('login-msg'));
  $('login-form').reset();
  $('signed-out').hidden = true;
  $('signed-in').hidden = false;
  clearInterval(tickTimer);
  tickTimer = setInterval(showExpiry, 1000);
  showExpiry();
  $('me-username').focus();
}

/* ---- forms ---- */

async function onLogin(event) {
  event.preventDefault();
  const form = $('login-form');
  const box = $('login-msg');
  const username = $('login-username').value.trim();
  const password = $('login-password').value;
  clearFieldErrors(form);
  clearMessage(box);
  if (!username) setFieldError('login-username', 'Enter your username.');
  if (!password) setFieldError('login-password', 'Enter your password.');
  if (!username || !password) {
    focusFirstInvalid(form);
    return;
  }
  const button = $('login-submit');
  await busy(button, async () => {
    const r = await api('POST', '/api/login', { body: { username, password } });
    if (!r.ok || !r.data || !r.data.access_token) {
      reportFailure(box, r, 'login', button);
      if (r.status === 422) markServerFields(form, 'login', r);
      if (r.status === 401) {
        $('login-password').value = '';
        $('login-password').focus();
      }
      return;
    }
    setTokens(r.data);
    const me = await authed('GET', '/api/me');
    if (!me.ok || !me.data) {
      showFailure(box, me, 'me');
      session.access = '';
      session.refresh = '';
      clearTimeout(refreshTimer);
      return;
    }
    enterSignedIn(me.data);
  });
}

async function onRegister(event) {
  event.preventDefault();
  const form = $('register-form');
  const box = $('register-msg');
  const username = $('register-username').value.trim();
  const password = $('register-password').value;
  const confirm = $('register-confirm').value;
  clearFieldErrors(form);
  clearMessage(box);
  if (!USERNAME_RE.test(username)) {
    setFieldError('register-username',
      username ? 'Use 3–64 characters: letters, digits, . _ or -.' : 'Choose a username.');
  }
  const pwBytes = utf8Length(password);
  if (pwBytes < 8) setFieldError('register-password', 'Use at least 8 characters.');
  else if (pwBytes > 1024) setFieldError('register-password', 'Use at most 1024 bytes.');
  if (confirm !== password) setFieldError('register-confirm', 'The two passwords differ.');
  if (form.querySelector('input[aria-invalid="true"]')) {
    focusFirstInvalid(form);
    return;
  }
  const button = $('register-submit');
  await busy(button, async () => {
    const r = await api('POST', '/api/register', { body: { username, password } });
    if (!r.ok) {
      reportFailure(box, r, 'register', button);
      if (r.status === 409) {
        setFieldError('register-username', 'Already taken.');
        $('register-username').focus();
      }
      if (r.status === 422) markServerFields(form, 'register', r);
      return;
    }
    const name = r.data && r.data.username ? r.data.username : username;
    form.reset();
    showMessage($('login-msg'), 'ok', `Account “${name}” created. Enter your password to log in.`);
    $('login-username').value = name;
    $('login-password').focus();
  });
}

async function onChangePassword(event) {
  event.preventDefault();
  const form = $('password-form');
  const box = $('password-msg');
  const oldPw = $('old-password').value;
  const newPw = $('new-password').value;
  clearFieldErrors(form);
  clearMessage(box);
  if (!oldPw) setFieldError('old-password', 'Enter your current password.');
  const bytes = utf8Length(newPw);
  if (bytes < 8) setFieldError('new-password', 'Use at least 8 characters.');
  else if (bytes > 1024) setFieldError('new-password', 'Use at most 1024 bytes.');
  if ($('new-confirm').value !== newPw) setFieldError('new-confirm', 'The two passwords differ.');
  if (form.querySelector('input[aria-invalid="true"]')) {
    focusFirstInvalid(form);
    return;
  }
  const button = $('password-submit');
  await busy(button, async () => {
    const r = await authed('POST', '/api/password', { old_password: oldPw, new_password: newPw });
    if (r.ok) {
      endSession('ok', 'Password changed. Every session was signed out: log in with your new password.');
      return;
    }
    if (r.status === 401) {
      endSession('warn', describeFailure(r, 'password'), r.detail);
      return;
    }
    reportFailure(box, r, 'password', button);
    if (r.status === 403) {
      setFieldError('old-password', 'Not your current password.');
      $('old-password').value = '';
      $('old-password').focus();
    }
    if (r.status === 422) markServerFields(form, 'password', r);
  });
}

/* ---- account buttons ---- */

async function onReload() {
  const box = $('account-msg');
  await busy($('reload-button'), async () => {
    const r = await authed('GET', '/api/me');
    if (r.ok && r.data) {
      showUser(r.data);
      showMessage(box, 'ok', 'Profile reloaded from GET /api/me.');
    } else if (r.status === 401) {
      endSession('warn', describeFailure(r, 'me'), r.detail);
    } else {
      reportFailure(box, r, 'me', $('reload-button'));
    }
  });
}

async function onRefresh() {
  const box = $('account-msg');
  clearMessage(box);
  await busy($('refresh-button'), async () => {
    if (await refreshTokens(false)) {
      const mins = Math.round((session.expiresAt - Date.now()) / 60000);
      showMessage(box, 'ok', `Tokens refreshed: a new access token, valid for about ${mins} min, and a new refresh token (the old one no longer works).`);
    }
  });
}

async function onLogout(all) {
  const button = all ? $('logout-all-button') : $('logout-button');
  await busy(button, async () => {
    const r = all
      ? await authed('POST', '/api/logout-all')
      : await authed('POST', '/api/logout', { refresh_token: session.refresh });
    if (r.ok) {
      endSession('ok', all
        ? 'Logged out everywhere: every session of this account was revoked.'
        : 'You are logged out.');
    } else {
      // The tab forgets its tokens anyway; say what the server did not do.
      endSession('warn', `Logged out of this tab, but the server did not confirm: ${describeFailure(r, 'logout')}`, r.detail);
    }
  });
}

/* ---- start ---- */

function start() {
  warnIfPlainHttp();
  $('login-form').addEventListener('submit', onLogin);
  $('register-form').addEventListener('submit', onRegister);
  $('password-form').addEventListener('submit', onChangePassword);
  $('reload-button').addEventListener('click', onReload);
  $('refresh-button').addEventListener('click', onRefresh);
  $('logout-button').addEventListener('click', () => onLogout(false));
  $('logout-all-button').addEventListener('click', () => onLogout(true));
  // Typing into a field clears its error.
  for (const input of document.querySelectorAll('form input')) {
    input.addEventListener('input', () => {
      if (input.getAttribute('aria-invalid')) setFieldError(input.id, '');
    });
  }
  document.body.dataset.ready = 'true';
}

start();
