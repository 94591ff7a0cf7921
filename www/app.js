// app.js: the account page — register, log in (with a two-factor code when
// it is on), show /api/me, refresh, log out, change password, two-factor
// enrolment, the list of sessions. The access token is kept in this
// module's memory only (never localStorage or sessionStorage: a script
// injected later could read storage); the refresh token is never seen by
// this code at all: the server keeps it in an HttpOnly cookie for
// /api/token (cookie mode), so a reload refreshes and stays signed in.

import {
  api, busy, clearMessage, describeFailure, holdButton, showFailure, showMessage,
  warnIfPlainHttp,
} from './common.js';

const $ = (id) => document.getElementById(id);

const session = { access: '', expiresAt: 0, user: null };
const pending = { mfaToken: '', username: '', recovery: false }; // the login's second step
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

// The refresh cookie goes by itself; the JSON content type is the CSRF proof.
async function doRefresh(quiet) {
  const r = await api('POST', '/api/token/refresh', { json: true });
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
  if (r.status === 401 && session.access && await refreshTokens(true)) {
    r = await api(method, path, { body, token: session.access });
  }
  return r;
}

function endSession(kind, headline, detail) {
  const name = session.user ? session.user.username : '';
  clearTimeout(refreshTimer);
  clearInterval(tickTimer);
  session.access = '';
  session.expiresAt = 0;
  session.user = null;
  resetMfaCard();
  $('sessions-list').replaceChildren();
  clearMessage($('sessions-msg'));
  $('password-form').reset();
  clearFieldErrors($('password-form'));
  clearMessage($('password-msg'));
  clearMessage($('account-msg'));
  $('signed-in').hidden = true;
  $('signed-out').hidden = false;
  showLoginStep();
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
  showMfaState(user.mfa === true);
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
  loadSessions();
}

// Tokens in hand (after a login or a reload): fetch /api/me and show it.
async function finishSignIn(data, box) {
  setTokens(data);
  const me = await authed('GET', '/api/me');
  if (!me.ok || !me.data) {
    if (box) showFailure(box, me, 'me');
    session.access = '';
    clearTimeout(refreshTimer);
    return false;
  }
  enterSignedIn(me.data);
  return true;
}

/* ---- the login's second step ---- */

function showLoginStep() {
  pending.mfaToken = '';
  $('mfa-form').hidden = true;
  $('login-form').hidden = false;
  $('register-form').hidden = false;
}

function showMfaStep(token, username) {
  pending.mfaToken = token;
  pending.username = username;
  setRecoveryMode(false);
  $('mfa-form').reset();
  clearFieldErrors($('mfa-form'));
  clearMessage($('mfa-login-msg'));
  $('login-form').hidden = true;
  $('register-form').hidden = true;
  $('mfa-form').hidden = false;
  $('mfa-login-code').focus();
}

function setRecoveryMode(on) {
  pending.recovery = on;
  $('mfa-login-label').textContent = on ? 'Recovery code' : 'Code from the app';
  $('mfa-login-hint').textContent = on
    ? 'Enter one of the recovery codes you saved when you turned two-factor on. Each works once.'
    : 'Your password was right. Enter the 6-digit code from your authenticator app.';
  $('mfa-use-recovery').textContent = on ? 'Use the app instead' : 'Use a recovery code';
  $('mfa-login-code').setAttribute('inputmode', on ? 'text' : 'numeric');
}

async function onMfaLogin(event) {
  event.preventDefault();
  const form = $('mfa-form');
  const box = $('mfa-login-msg');
  const code = $('mfa-login-code').value.trim();
  clearFieldErrors(form);
  clearMessage(box);
  if (!pending.recovery && !/^[0-9]{6}$/.test(code)) {
    setFieldError('mfa-login-code', 'Enter the 6 digits the app shows.');
    focusFirstInvalid(form);
    return;
  }
  if (pending.recovery && code.replace(/[-\s]/g, '').length !== 12) {
    setFieldError('mfa-login-code', 'Recovery codes look like abcd-efgh-ijkl.');
    focusFirstInvalid(form);
    return;
  }
  const button = $('mfa-login-submit');
  await busy(button, async () => {
    const body = { mfa_token: pending.mfaToken, refresh_cookie: true };
    body[pending.recovery ? 'recovery_code' : 'code'] = code;
    const r = await api('POST', '/api/login/mfa', { body });
    if (r.ok && r.data && r.data.access_token) {
      await finishSignIn(r.data, box);
      return;
    }
    if (r.status === 401 && r.error === 'invalid_mfa_token') {
      const name = pending.username;
      showLoginStep();
      showFailure($('login-msg'), r, 'login');
      $('login-username').value = name;
      $('login-password').focus();
      return;
    }
    reportFailure(box, r, 'mfa', button);
    $('mfa-login-code').value = '';
    $('mfa-login-code').focus();
  });
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
    const r = await api('POST', '/api/login',
      { body: { username, password, refresh_cookie: true } });
    if (r.ok && r.data && r.data.mfa_required) {
      $('login-password').value = '';
      showMfaStep(r.data.mfa_token, username);
      return;
    }
    if (!r.ok || !r.data || !r.data.access_token) {
      reportFailure(box, r, 'login', button);
      if (r.status === 422) markServerFields(form, 'login', r);
      if (r.status === 401) {
        $('login-password').value = '';
        $('login-password').focus();
      }
      return;
    }
    await finishSignIn(r.data, box);
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
    // Logout by the cookie alone (it is cleared): works even without an
    // access token.
    const r = all
      ? await authed('POST', '/api/logout-all')
      : await api('POST', '/api/token/logout', { json: true });
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

/* ---- two-factor ---- */

function resetMfaCard() {
  $('mfa-enrol').hidden = true;
  $('mfa-enrol').reset();
  $('mfa-recovery').hidden = true;
  $('recovery-codes').replaceChildren();
  $('mfa-disable-form').reset();
  $('mfa-qr').replaceChildren();
  $('mfa-secret').textContent = '';
  clearMessage($('mfa-msg'));
}

function showMfaState(on) {
  const badge = $('mfa-status');
  badge.textContent = on ? 'on' : 'off';
  badge.className = `badge ${on ? 'badge-ok' : ''}`;
  $('mfa-off').hidden = on;
  $('mfa-disable-form').hidden = !on;
  if (on) $('mfa-enrol').hidden = true;
}

// The server's QR code is rebuilt from its path data alone, so no markup
// from a response is ever inserted into the page.
function renderQr(svgText) {
  const box = $('mfa-qr');
  box.replaceChildren();
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const src = doc.documentElement;
  const path = src.querySelector('path');
  const viewBox = src.getAttribute('viewBox') || '';
  if (src.nodeName !== 'svg' || !path || !/^[0-9 ]+$/.test(viewBox)) return;
  const d = path.getAttribute('d') || '';
  if (!/^[MmHhVvZz0-9 .-]*$/.test(d)) return;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', viewBox);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const bg = document.createElementNS(ns, 'rect');
  bg.setAttribute('width', '100%');
  bg.setAttribute('height', '100%');
  bg.setAttribute('fill', '#fff');
  const p = document.createElementNS(ns, 'path');
  p.setAttribute('d', d);
  p.setAttribute('fill', '#000');
  svg.append(bg, p);
  box.append(svg);
}

async function onMfaSetup() {
  const box = $('mfa-msg');
  clearMessage(box);
  await busy($('mfa-setup'), async () => {
    const r = await authed('POST', '/api/mfa/totp/setup');
    if (!r.ok || !r.data) {
      reportFailure(box, r, 'mfa', $('mfa-setup'));
      return;
    }
    renderQr(r.data.qr_svg || '');
    $('mfa-secret').textContent = r.data.secret;
    $('mfa-off').hidden = true;
    $('mfa-enrol').hidden = false;
    $('mfa-code').focus();
  });
}

async function onMfaEnable(event) {
  event.preventDefault();
  const form = $('mfa-enrol');
  const box = $('mfa-msg');
  const code = $('mfa-code').value.trim();
  clearFieldErrors(form);
  clearMessage(box);
  if (!/^[0-9]{6}$/.test(code)) {
    setFieldError('mfa-code', 'Enter the 6 digits the app shows.');
    focusFirstInvalid(form);
    return;
  }
  await busy($('mfa-enable'), async () => {
    const r = await authed('POST', '/api/mfa/totp/enable', { code });
    if (!r.ok || !r.data || !Array.isArray(r.data.recovery_codes)) {
      reportFailure(box, r, 'mfa', $('mfa-enable'));
      if (r.status === 422) setFieldError('mfa-code', 'Not the current code.');
      return;
    }
    const list = $('recovery-codes');
    list.replaceChildren(...r.data.recovery_codes.map((c) => {
      const li = document.createElement('li');
      li.textContent = c;
      return li;
    }));
    form.reset();
    $('mfa-qr').replaceChildren();
    $('mfa-secret').textContent = '';
    showMfaState(true);
    $('mfa-disable-form').hidden = true;        // until the codes are saved
    $('mfa-recovery').hidden = false;
    showMessage(box, 'ok', 'Two-factor is on: the next login will ask for a code.');
    $('recovery-copy').focus();
  });
}

async function onRecoveryCopy() {
  const codes = [...$('recovery-codes').querySelectorAll('li')].map((li) => li.textContent);
  try {
    await navigator.clipboard.writeText(`${codes.join('\n')}\n`);
    showMessage($('mfa-msg'), 'ok', 'The recovery codes are on the clipboard.');
  } catch (e) {
    showMessage($('mfa-msg'), 'warn', 'Copying was not allowed: select the codes and copy them by hand.');
  }
}

function onRecoveryDone() {
  $('mfa-recovery').hidden = true;
  $('recovery-codes').replaceChildren();      // shown once: gone from the page
  $('mfa-disable-form').hidden = false;
  clearMessage($('mfa-msg'));
}

async function onMfaDisable(event) {
  event.preventDefault();
  const form = $('mfa-disable-form');
  const box = $('mfa-msg');
  const password = $('mfa-disable-password').value;
  const code = $('mfa-disable-code').value.trim();
  clearFieldErrors(form);
  clearMessage(box);
  if (!password) setFieldError('mfa-disable-password', 'Enter your current password.');
  if (!code) setFieldError('mfa-disable-code', 'Enter a code from the app or a recovery code.');
  if (!password || !code) {
    focusFirstInvalid(form);
    return;
  }
  await busy($('mfa-disable-submit'), async () => {
    const r = await authed('POST', '/api/mfa/totp/disable', { password, code });
    if (r.ok) {
      form.reset();
      showMfaState(false);
      showMessage(box, 'ok', 'Two-factor is off: logins need only the password again.');
      return;
    }
    reportFailure(box, r, 'mfa', $('mfa-disable-submit'));
    if (r.error === 'wrong_password') setFieldError('mfa-disable-password', 'Not your current password.');
    if (r.error === 'invalid_code') setFieldError('mfa-disable-code', 'Wrong or already used.');
  });
}

/* ---- sessions ---- */

function when(text) {
  const t = new Date(text);
  return Number.isNaN(t.getTime()) ? text : t.toLocaleString();
}

function sessionItem(s) {
  const li = document.createElement('li');
  li.dataset.sessionId = String(s.id);
  const info = document.createElement('div');
  const what = document.createElement('div');
  what.className = 'what';
  what.textContent = `${s.user_agent || 'unknown client'} · ${s.ip || 'unknown address'}`;
  if (s.current) {
    const badge = document.createElement('span');
    badge.className = 'badge badge-info';
    badge.textContent = 'this device';
    what.append(' ', badge);
  }
  const times = document.createElement('div');
  times.className = 'when';
  times.textContent = `signed in ${when(s.created_at)} · last used ${when(s.last_used_at)}`;
  info.append(what, times);
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'danger';
  button.textContent = 'Sign out this device';
  button.addEventListener('click', () => onSessionEnd(s.id, s.current === true, button));
  li.append(info, button);
  return li;
}

async function loadSessions() {
  const box = $('sessions-msg');
  const r = await authed('GET', '/api/sessions');
  if (!r.ok || !r.data || !Array.isArray(r.data.sessions)) {
    reportFailure(box, r, 'sessions', $('sessions-reload'));
    return;
  }
  $('sessions-list').replaceChildren(...r.data.sessions.map(sessionItem));
}

async function onSessionEnd(id, current, button) {
  const box = $('sessions-msg');
  clearMessage(box);
  await busy(button, async () => {
    const r = await authed('DELETE', `/api/sessions/${encodeURIComponent(id)}`);
    if (r.ok && current) {
      endSession('ok', 'This device is signed out.');
      return;
    }
    if (r.ok) {
      showMessage(box, 'ok', 'That device is signed out: its tokens no longer work.');
      await loadSessions();
      return;
    }
    reportFailure(box, r, 'sessions', button);
  });
}

/* ---- start ---- */

// A reload: the refresh cookie (if any) brings the session back.
async function resume() {
  const r = await api('POST', '/api/token/refresh', { json: true });
  if (r.ok && r.data && r.data.access_token) await finishSignIn(r.data, null);
}

async function start() {
  warnIfPlainHttp();
  $('login-form').addEventListener('submit', onLogin);
  $('register-form').addEventListener('submit', onRegister);
  $('password-form').addEventListener('submit', onChangePassword);
  $('reload-button').addEventListener('click', onReload);
  $('refresh-button').addEventListener('click', onRefresh);
  $('logout-button').addEventListener('click', () => onLogout(false));
  $('logout-all-button').addEventListener('click', () => onLogout(true));
  $('mfa-form').addEventListener('submit', onMfaLogin);
  $('mfa-use-recovery').addEventListener('click', () => {
    setRecoveryMode(!pending.recovery);
    $('mfa-login-code').value = '';
    $('mfa-login-code').focus();
  });
  $('mfa-cancel').addEventListener('click', () => showLoginStep());
  $('mfa-setup').addEventListener('click', onMfaSetup);
  $('mfa-enrol').addEventListener('submit', onMfaEnable);
  $('recovery-copy').addEventListener('click', onRecoveryCopy);
  $('recovery-done').addEventListener('click', onRecoveryDone);
  $('mfa-disable-form').addEventListener('submit', onMfaDisable);
  $('sessions-reload').addEventListener('click', () => busy($('sessions-reload'), loadSessions));
  // Typing into a field clears its error.
  for (const input of document.querySelectorAll('form input')) {
    input.addEventListener('input', () => {
      if (input.getAttribute('aria-invalid')) setFieldError(input.id, '');
    });
  }
  await resume();
  document.body.dataset.ready = 'true';
}

start();
