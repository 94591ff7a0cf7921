// demo.js: runs POST /demo/run (demo mode only) and shows, side by side,
// what an eavesdropper saw of a login over HTTP and over HTTPS, and what each
// costs. Everything the server sends is inserted as text, never as HTML.

import { api, busy, clearMessage, holdButton, showFailure, showMessage, warnIfPlainHttp } from './common.js';

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

const el = (tag, className, text) => {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
};

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

function ms(v) {
  if (!isNum(v)) return '—';
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;
}

function bytes(v) {
  return isNum(v) ? `${v.toLocaleString()} B` : '—';
}

const DIR_LINE = /^[<>] (client|server) -> (server|client), \d+ bytes?$/;

// Fills a <pre> with the wire text: direction lines styled, every occurrence
// of `secret` wrapped in <mark> so the eye finds the password.
function fillWire(pre, text, secret) {
  pre.replaceChildren();
  const lines = String(text || '').split('\n');
  lines.forEach((line, i) => {
    if (DIR_LINE.test(line)) {
      pre.append(el('span', `dir ${line.includes('server ->') ? 'server' : 'client'}`, line));
    } else if (secret && line.includes(secret)) {
      const parts = line.split(secret);
      parts.forEach((part, j) => {
        if (part) pre.append(document.createTextNode(part));
        if (j < parts.length - 1) pre.append(el('mark', '', secret));
      });
    } else {
      pre.append(document.createTextNode(line));
    }
    if (i < lines.length - 1) pre.append('\n');
  });
  if (!text) pre.textContent = '(nothing captured)';
}

function fillFacts(dl, rows) {
  dl.replaceChildren();
  for (const [k, v] of rows) {
    dl.append(el('dt', '', k), el('dd', '', v));
  }
}

function loginFacts(side) {
  const t = side.login_ms || {};
  const b = side.login_bytes || {};
  return [
    ['Status', side.status ? `HTTP ${side.status}` : 'no answer'],
    ['Time', `${ms(t.total)} (argon2id hashing included)`],
    ['On the wire', `${bytes(b.sent)} sent, ${bytes(b.received)} received`],
  ];
}

function sideError(box, side) {
  box.hidden = side.ok !== false;
  box.textContent = side.ok === false
    ? `This side failed${side.status ? ` (HTTP ${side.status})` : ''}: ${side.error || 'no detail'}`
    : '';
}

// A side whose login failed proves nothing either way: say so.
function failedVerdict(side, normal) {
  return side.ok === false ? 'This side did not complete a login, so there is nothing to compare.' : normal;
}

const RECORD_NAMES = {
  handshake: 'Handshake',
  change_cipher_spec: 'Change cipher spec',
  alert: 'Alert',
  application_data: 'Application data',
  heartbeat: 'Heartbeat',
  unknown: 'Unknown',
};

function fillRecords(tbody, records) {
  tbody.replaceChildren();
  if (!Array.isArray(records) || records.length === 0) {
    const tr = el('tr');
    const td = el('td', '', 'No records captured.');
    td.colSpan = 4;
    tr.append(td);
    tbody.append(tr);
    return;
  }
  for (const r of records) {
    const tr = el('tr');
    const toServer = r.dir === 'client';
    const dir = el('td');
    dir.append(el('span', '', toServer ? '→ ' : '← '), el('span', 'visually-hidden', toServer ? 'from client ' : 'from server '),
      document.createTextNode(toServer ? 'to server' : 'to client'));
    tr.append(dir);
    const type = el('td');
    const name = el('span', `rec-type ${String(r.type || 'unknown').replace(/[^a-z_]/g, '')}`,
      RECORD_NAMES[r.type] || String(r.type || 'unknown'));
    type.append(name);
    if (r.handshake) type.append(document.createTextNode(` (${r.handshake.replace(/_/g, ' ')})`));
    else if (r.type === 'handshake') type.append(document.createTextNode(' (encrypted)'));
    if (r.complete === false) type.append(document.createTextNode(', cut by the capture limit'));
    tr.append(type, el('td', '', r.version || '—'), el('td', 'num', isNum(r.length) ? String(r.length) : '—'));
    tbody.append(tr);
  }
}

function renderHttp(data) {
  const s = data.http || {};
  $('http-url').textContent = s.url || '';
  const v = $('http-verdict');
  v.className = `verdict ${s.password_visible ? 'bad' : ''}`;
  v.textContent = s.password_visible
    ? `The password “${data.password}” crossed the network in clear text (highlighted below).`
    : failedVerdict(s, 'The password was not found in the captured bytes.');
  sideError($('http-error'), s);
  fillWire($('http-wire'), s.eavesdropper_text, data.password);
  $('http-hex').textContent = s.eavesdropper_hex || '(nothing captured)';
  fillFacts($('http-login'), loginFacts(s));
}

function renderHttps(data) {
  const s = data.https || {};
  $('https-url').textContent = s.url || '';
  const v = $('https-verdict');
  v.className = `verdict ${s.password_visible ? 'bad' : s.ok === false ? '' : 'good'}`;
  v.textContent = s.password_visible
    ? 'The password is visible in the captured bytes: something is wrong.'
    : failedVerdict(s, 'The password appears nowhere in the captured bytes: only encrypted TLS records crossed the network.');
  const tls = s.tls || {};
  $('https-tls').textContent = tls.version
    ? `${tls.version}, ${tls.ciphersuite || 'unknown suite'}; certificate ${tls.verified ? 'verified' : 'NOT verified'}.`
    : '';
  sideError($('https-error'), s);
  fillRecords($('https-records'), s.records);
  fillWire($('https-wire'), s.eavesdropper_text, data.password);
  $('https-hex').textContent = s.eavesdropper_hex || '(nothing captured)';
  fillWire($('https-inside'), s.request_text, data.password);
  fillFacts($('https-login'), loginFacts(s));
}

/* The optional TLS 1.2 side (the toggle): its records beside TLS 1.3's. */
function renderTls12(data) {
  const s = data.https_tls12;
  $('panel-tls12').hidden = !s;
  if (!s) return;
  $('tls12-url').textContent = s.url || '';
  const v = $('tls12-verdict');
  const cert = Array.isArray(s.records) && s.records.some((r) => r.handshake === 'certificate');
  v.className = `verdict ${s.password_visible ? 'bad' : s.ok === false ? '' : 'good'}`;
  v.textContent = s.password_visible
    ? 'The password is visible in the captured bytes: something is wrong.'
    : failedVerdict(s, cert
      ? 'The password is encrypted, but the server’s certificate crossed in the clear.'
      : 'The password appears nowhere in the captured bytes.');
  const tls = s.tls || {};
  $('tls12-tls').textContent = tls.version
    ? `${tls.version}, ${tls.ciphersuite || 'unknown suite'}; certificate ${tls.verified ? 'verified' : 'NOT verified'}.`
    : '';
  sideError($('tls12-error'), s);
  fillRecords($('tls12-records'), s.records);
}

/* ---- the cost table and bars ---- */

function costColumns(data) {
  const h = data.http || {};
  const s = data.https || {};
  const v = s.tls && s.tls.version === 'TLSv1.3' ? ' (TLS 1.3)' : '';
  const cols = [
    { label: 'HTTP', t: h.median_ms || {}, b: h.bytes || {}, rt: h.handshake_round_trips },
    { label: `HTTPS${v}, full`, t: s.median_ms || {}, b: s.bytes || {}, rt: s.handshake_round_trips },
    { label: `HTTPS${v}, resumed`, t: s.resumed_median_ms || {}, b: s.resumed_bytes || {},
      rt: s.resumed_handshake_round_trips },
  ];
  const t = data.https_tls12;
  if (t) {
    cols.push({ label: 'TLS 1.2, full', t: t.median_ms || {}, b: t.bytes || {}, rt: t.handshake_round_trips },
      { label: 'TLS 1.2, resumed', t: t.resumed_median_ms || {}, b: t.resumed_bytes || {},
        rt: t.resumed_handshake_round_trips });
  }
  return cols;
}

function renderCost(data) {
  const cols = costColumns(data);
  const rows = [
    ['TCP connect', (c) => ms(c.t.connect)],
    ['TLS handshake', (c) => ms(c.t.handshake)],
    ['Handshake round trips', (c) => (isNum(c.rt) ? String(c.rt) : '—')],
    ['Time to first byte', (c) => ms(c.t.ttfb)],
    ['Total', (c) => ms(c.t.total)],
    ['Bytes sent', (c) => bytes(c.b.sent)],
    ['Bytes received', (c) => bytes(c.b.received)],
  ];
  const head = $('cost-head');
  head.replaceChildren(el('th', '', 'Measure'));
  head.firstChild.scope = 'col';
  for (const c of cols) {
    const th = el('th', 'num', c.label);
    th.scope = 'col';
    head.append(th);
  }
  const tbody = $('cost-rows');
  tbody.replaceChildren();
  for (const [label, value] of rows) {
    const tr = el('tr');
    const th = el('th', '', label);
    th.scope = 'row';
    tr.append(th);
    for (const c of cols) tr.append(el('td', 'num', value(c)));
    tbody.append(tr);
  }
  renderBars(cols);
}

function rect(x, w, cls) {
  const r = document.createElementNS(SVG_NS, 'rect');
  r.setAttribute('x', String(x));
  r.setAttribute('y', '0');
  r.setAttribute('width', String(Math.max(0, w)));
  r.setAttribute('height', '10');
  r.setAttribute('class', cls);
  return r;
}

// Stacked bars drawn with SVG attributes (no style attributes: strict CSP).
function renderBars(cols) {
  const box = $('cost-bars');
  box.replaceChildren();
  const max = Math.max(...cols.map((c) => (isNum(c.t.total) ? c.t.total : 0)));
  if (!(max > 0)) return;
  for (const c of cols) {
    const t = c.t;
    const parts = [
      [t.connect, 'seg-connect'],
      [t.handshake, 'seg-handshake'],
      [t.ttfb, 'seg-ttfb'],
    ].map(([v, cls]) => [isNum(v) ? v : 0, cls]);
    const used = parts.reduce((a, [v]) => a + v, 0);
    parts.push([Math.max(0, (isNum(t.total) ? t.total : used) - used), 'seg-rest']);
    const svg = document.createElementNS(SVG_NS, 'svg');
    svg.setAttribute('viewBox', '0 0 100 10');
    svg.setAttribute('preserveAspectRatio', 'none');
    let x = 0;
    for (const [v, cls] of parts) {
      const w = (v / max) * 100;
      svg.append(rect(x, w, cls));
      x += w;
    }
    const row = el('div', 'bar-row');
    row.append(el('span', 'label', c.label), svg, el('span', 'value', ms(t.total)));
    box.append(row);
  }
}

function render(data) {
  const runs = isNum(data.runs) ? data.runs : '?';
  const req = data.timed_request || 'a request';
  const extra = data.timing_note && !/^median of/i.test(data.timing_note) ? ` (${data.timing_note})` : '';
  $('timing-note').textContent =
    `Logged in as “${data.user}” once over each side: the transcripts below. ` +
    `Timings are medians of ${runs} runs of ${req}, each on a fresh connection${extra}.`;
  const s = data.https || {};
  const resumed = isNum(s.resumed_runs)
    ? ` In the resumed column, ${s.resumed_runs} of ${runs} runs resumed from the session ticket.` : '';
  $('cost-caption').textContent =
    `Medians of ${runs} runs of ${req} over loopback, each on a fresh connection; bytes on the wire of one run.${resumed}`;
  renderHttp(data);
  renderHttps(data);
  renderTls12(data);
  renderCost(data);
  $('results').hidden = false;
}

/* ---- run ---- */

async function onRun() {
  const button = $('run-button');
  const box = $('demo-msg');
  showMessage(box, 'info', 'Running: the server is logging in over both of its ports and timing fresh connections…');
  await busy(button, async () => {
    const body = $('tls12-toggle').checked ? { tls12: true } : undefined;
    const r = await api('POST', '/demo/run', { body, timeoutMs: 30000 });
    if (r.ok && r.data && r.data.http && r.data.https) {
      clearMessage(box);
      render(r.data);
      $('results-title').focus();
      return;
    }
    if (r.status === 404) {
      showMessage(box, 'warn', 'The demo is off on this server: start the server with --demo '
        + '(for example: build/portcullis --demo), then run the comparison again.');
    } else if (r.status === 403) {
      showMessage(box, 'error', 'The demo only answers clients on the server’s own machine (loopback). '
        + 'Open this page at https://127.0.0.1 on the server itself.', r.detail);
    } else if (r.status === 503 && r.error === 'busy') {
      showMessage(box, 'warn', 'Another comparison is running right now. Try again in a moment.');
      holdButton(button, r.retryAfter || 1);
    } else if (r.ok) {
      showMessage(box, 'error', 'The server answered, but not with the expected comparison.');
    } else {
      showFailure(box, r, 'demo');
      if (r.status === 429 || r.status === 503) holdButton(button, r.retryAfter || 1);
    }
  });
}

function start() {
  warnIfPlainHttp();
  $('run-button').addEventListener('click', onRun);
  document.body.dataset.ready = 'true';
}

start();
