// cors.mjs: real CORS preflights from Chromium. Started by
// tests/script_browser.sh after login.mjs, against the same server, whose
// http.cors_origins lists the plain listener's origin (PC_HTTP_URL, served
// in demo mode) and nothing else. From that origin a page's fetch of the
// HTTPS API passes the browser's preflight and reads the answer; from
// http://localhost:PORT (the same server under another origin) the browser
// blocks the same fetch. Environment as for login.mjs.
import { chromium } from 'playwright-core';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

const BASE = process.env.PC_URL;
const HTTP_BASE = process.env.PC_HTTP_URL;
const CA_FILE = process.env.PC_CA_FILE;
if (!BASE || !HTTP_BASE || !CA_FILE) {
  console.error('cors.mjs: PC_URL, PC_HTTP_URL and PC_CA_FILE must be set');
  process.exit(2);
}
setTimeout(() => {
  console.error('cors.mjs: gave up after 90 s');
  process.exit(1);
}, 90000).unref();

function spkiHash(pemFile) {
  const cert = new X509Certificate(readFileSync(pemFile));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

// From a document of the given origin: register a user on the HTTPS API.
// The document is /healthz (JSON): the HTML pages' Content-Security-Policy
// (connect-src 'self') would stop the fetch before CORS is even asked.
async function registerFrom(page, origin) {
  await page.goto(`${origin}/healthz`);
  const name = 'cors' + randomBytes(4).toString('hex');
  return page.evaluate(async ([api, user]) => {
    try {
      const r = await fetch(`${api}/api/register`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Request-Id': 'cors-test-1' },
        body: JSON.stringify({ username: user, password: 'correct horse battery' }),
      });
      return { status: r.status, body: await r.json(), rid: r.headers.get('X-Request-Id') };
    } catch (e) {
      return { blocked: String(e) };
    }
  }, [BASE, name]);
}

const browser = await chromium.launch({
  executablePath: process.env.PC_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync',
         '--disable-dev-shm-usage', `--ignore-certificate-errors-spki-list=${spkiHash(CA_FILE)}`],
});
let failed = false;
function check(ok, what) {
  console.log(`cors.mjs: ${ok ? 'ok' : 'FAIL'}: ${what}`);
  if (!ok) failed = true;
}
try {
  const page = await browser.newPage();
  const listed = await registerFrom(page, HTTP_BASE);
  check(listed.status === 201 && listed.body && listed.body.username,
        `listed origin ${HTTP_BASE}: preflight passed, 201 read (${JSON.stringify(listed)})`);
  check(/^[0-9a-f]{32}$/.test(listed.rid || ''),
        `X-Request-Id (ours, not the page's) is exposed to the page (${listed.rid})`);
  const other = HTTP_BASE.replace('127.0.0.1', 'localhost');
  const unlisted = await registerFrom(page, other);
  check(unlisted.blocked !== undefined, `unlisted origin ${other}: blocked (${JSON.stringify(unlisted)})`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
