// login.mjs: drives Debian's chromium with playwright-core through the
// account page and the demo page of a running portcullis (demo mode):
// registration, login, a reload that stays signed in (cookie mode), token
// refresh, logout, password change, two-factor enrolment (QR code, first
// code, recovery codes shown once and copied), a login with a TOTP code
// computed here, ending another session from the list, two-factor off.
// Started by tests/script_browser.sh, which sets:
//   PC_URL          https://127.0.0.1:PORT   (the HTTPS listener)
//   PC_HTTP_URL     http://127.0.0.1:PORT    (the plain listener, demo mode)
//   PC_CA_FILE      the dev CA certificate (PEM)
//   PC_CHROMIUM     the browser binary (/usr/bin/chromium)
//   PC_SCREENSHOTS  where the screenshots go
//   PC_SANITIZE     ON for the ASan build (longer waits)
//
// Certificate trust: the browser is not told to ignore certificate errors
// (ignoreHTTPSErrors stays false). Chromium is started with
// --ignore-certificate-errors-spki-list holding the base64 SHA-256 of the dev
// CA's SubjectPublicKeyInfo, computed here from its PEM file: only a chain
// that carries the dev CA's key (the server sends leaf + CA) is accepted,
// which is what trusting the dev CA means for this one run, without an NSS
// database (that would need certutil, another package). A first step checks
// that, without the pin, the same browser refuses the certificate.
import { chromium } from 'playwright-core';
import { X509Certificate, createHash, createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function need(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`login.mjs: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const BASE = need('PC_URL');
const HTTP_BASE = need('PC_HTTP_URL');
const CA_FILE = need('PC_CA_FILE');
const CHROMIUM = process.env.PC_CHROMIUM || '/usr/bin/chromium';
const SHOTS = need('PC_SCREENSHOTS');
const SLOW = process.env.PC_SANITIZE === 'ON';
const T = SLOW ? 45000 : 20000;         // one wait
const DEMO_T = SLOW ? 90000 : 45000;    // POST /demo/run: logins + timed runs

// Whatever happens, this process ends well inside the ctest budget.
setTimeout(() => {
  console.error('login.mjs: gave up after 160 s');
  process.exit(1);
}, 160000).unref();

const ARGS = [
  // headless: true below adds --headless.
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

function spkiHash(pemFile) {
  const cert = new X509Certificate(readFileSync(pemFile));
  const der = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

/* ---- TOTP (RFC 6238), computed here independently of the server ---- */

function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let acc = 0;
  const out = [];
  for (const ch of text.replace(/=+$/, '')) {
    const v = alphabet.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${text}`);
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((acc >> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// The code for the 30-second step `ahead` steps from now.
function totp(secret, ahead = 0) {
  const step = Math.floor(Date.now() / 1000 / 30) + ahead;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0x0f;
  const n = (((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3]) % 1000000;
  return String(n).padStart(6, '0');
}

/* ---- a tiny step runner: stops at the first failure ---- */

let passed = 0;
let page = null;

async function shot(name, fullPage = true) {
  const file = join(SHOTS, name);
  await page.screenshot({ path: file, fullPage });
  console.log(`  screenshot ${file}`);
}

async function step(name, fn) {
  try {
    await fn();
  } catch (e) {
    console.log(`not ok - ${name}`);
    console.log(`  ${String(e && e.stack ? e.stack : e).split('\n').slice(0, 6).join('\n  ')}`);
    if (page) await shot('failure.png').catch(() => {});
    throw e;
  }
  passed += 1;
  console.log(`ok - ${name}`);
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

const visible = (sel, timeout = T) => page.locator(sel).waitFor({ state: 'visible', timeout });
const hasText = (sel, re, timeout = T) =>
  page.locator(sel, { hasText: re }).waitFor({ state: 'visible', timeout });
const ready = () => page.locator('body[data-ready="true"]').waitFor({ state: 'attached', timeout: T });

/* ---- the run ---- */

async function refusedWithoutPin() {
  const b = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  try {
    const p = await b.newPage();
    let err = null;
    try {
      await p.goto(`${BASE}/healthz`, { timeout: T });
    } catch (e) {
      err = e;
    }
    check(err && /ERR_CERT/.test(err.message), `navigation without the pin must fail with ERR_CERT_*, got ${err ? err.message : 'success'}`);
  } finally {
    await b.close();
  }
}

async function main() {
  mkdirSync(SHOTS, { recursive: true });
  const user = `pw-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const password = 'correct horse battery staple';
  const newPassword = 'a new passphrase, longer still';
  const problems = [];
  const pin = spkiHash(CA_FILE);

  await step('without the dev CA pin, chromium refuses the certificate', refusedWithoutPin);

  const profile = mkdtempSync(join(tmpdir(), 'pc-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...ARGS, `--ignore-certificate-errors-spki-list=${pin}`],
    ignoreHTTPSErrors: false,
    viewport: { width: 1280, height: 860 },
    timeout: T,
  });
  try {
    page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(T);
    page.on('console', (m) => {
      if (/Content.Security.Policy|Refused to (execute|apply|load|connect)/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
    let registerCalls = 0;
    page.on('request', (r) => { if (r.url().endsWith('/api/register')) registerCalls += 1; });

    await step('the login page loads over HTTPS with a strict CSP', async () => {
      const res = await page.goto(`${BASE}/`, { timeout: T });
      check(res && res.status() === 200, `status ${res && res.status()}`);
      const csp = res.headers()['content-security-policy'] || '';
      check(csp.includes("default-src 'self'"), `CSP header: ${csp}`);
      const sec = await res.securityDetails();
      console.log(`  TLS: ${sec ? `${sec.protocol}, issuer ${sec.issuer}` : 'no details'}`);
      await ready();
      await visible('#login-form');
      await visible('#register-form');
      check(await page.locator('#signed-in').isHidden(), 'signed-in panel hidden');
      check(await page.locator('#plain-http-warning').isHidden(), 'no plain-HTTP warning over HTTPS');
      await shot('01-login.png');
    });

    await step('register: the page checks the fields before sending', async () => {
      await page.fill('#register-username', 'x!');
      await page.fill('#register-password', 'short');
      await page.fill('#register-confirm', 'other');
      await page.click('#register-submit');
      await hasText('#register-username-err', /3–64 characters/);
      await hasText('#register-password-err', /at least 8/);
      await hasText('#register-confirm-err', /differ/);
      check(await page.getAttribute('#register-username', 'aria-invalid') === 'true', 'aria-invalid set');
      check(registerCalls === 0, 'no request sent for invalid input');
      await shot('02-register-invalid.png');
    });

    await step('register a new account', async () => {
      await page.fill('#register-username', user);
      await page.fill('#register-password', password);
      await page.fill('#register-confirm', password);
      await page.click('#register-submit');
      await hasText('#login-msg', /created/);
      check(await page.inputValue('#login-username') === user, 'login username prefilled');
    });

    await step('registering the same name again says it is taken (409)', async () => {
      await page.fill('#register-username', user);
      await page.fill('#register-password', password);
      await page.fill('#register-confirm', password);
      await page.click('#register-submit');
      await hasText('#register-msg', /already taken/);
      await hasText('#register-username-err', /taken/i);
    });

    await step('log in and see the username from /api/me', async () => {
      await page.fill('#login-username', user);
      await page.fill('#login-password', password);
      await page.click('#login-submit');
      await visible('#signed-in');
      await hasText('#me-username', new RegExp(`^${user}$`));
      await hasText('#me-role', /^user$/);
      await hasText('#token-expiry', /valid for/);
      const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
      check(stored[0] === 0 && stored[1] === 0 && stored[2] === '', `nothing stored outside memory: ${JSON.stringify(stored)}`);
      await shot('03-signed-in.png');
    });

    await step('a reload stays signed in (the refresh token is in an HttpOnly cookie)', async () => {
      const res = await page.reload({ timeout: T });
      check(res && res.status() === 200, `status ${res && res.status()}`);
      await ready();
      await visible('#signed-in');
      await hasText('#me-username', new RegExp(`^${user}$`));
      const stored = await page.evaluate(() => [localStorage.length, sessionStorage.length, document.cookie]);
      check(stored[0] === 0 && stored[1] === 0 && stored[2] === '', `nothing readable by scripts: ${JSON.stringify(stored)}`);
      const cookies = await ctx.cookies(`${BASE}/api/token/refresh`);
      const c = cookies.find((k) => k.name === 'pc_refresh');
      check(c && c.httpOnly && c.secure && c.sameSite === 'Strict' && c.path === '/api/token',
        `refresh cookie: ${JSON.stringify(c)}`);
      await hasText('#sessions-list li', /this device/);
    });

    await step('the cookie is not sent to other paths', async () => {
      const other = await ctx.cookies(`${BASE}/api/me`);
      check(!other.some((k) => k.name === 'pc_refresh'), 'no refresh cookie outside /api/token');
    });

    await step('reload the profile and refresh the tokens', async () => {
      await page.click('#reload-button');
      await hasText('#account-msg', /reloaded/);
      await page.click('#refresh-button');
      await hasText('#account-msg', /Tokens refreshed/);
      await hasText('#me-username', new RegExp(`^${user}$`));
    });

    await step('log out', async () => {
      await page.click('#logout-button');
      await visible('#signed-out');
      await hasText('#login-msg', /logged out/i);
      check(await page.locator('#signed-in').isHidden(), 'signed-in panel hidden after logout');
    });

    await step('a wrong password shows the error', async () => {
      await page.fill('#login-username', user);
      await page.fill('#login-password', 'not the password at all');
      await page.click('#login-submit');
      await hasText('#login-msg', /Wrong username or password/);
      check(await page.locator('#signed-in').isHidden(), 'still signed out');
      check(await page.inputValue('#login-password') === '', 'password field cleared');
      await shot('04-wrong-password.png');
    });

    await step('change the password, then log in with the new one', async () => {
      await page.fill('#login-password', password);
      await page.click('#login-submit');
      await visible('#signed-in');
      await page.fill('#old-password', 'not the current one');
      await page.fill('#new-password', newPassword);
      await page.fill('#new-confirm', newPassword);
      await page.click('#password-submit');
      await hasText('#password-msg', /current password is not correct/);
      await page.fill('#old-password', password);
      await page.click('#password-submit');
      await visible('#signed-out');
      await hasText('#login-msg', /Password changed/);
      await page.fill('#login-password', newPassword);
      await page.click('#login-submit');
      await hasText('#me-username', new RegExp(`^${user}$`));
    });

    await step('log out everywhere', async () => {
      await page.click('#logout-all-button');
      await visible('#signed-out');
      await hasText('#login-msg', /Logged out everywhere/);
    });

    const user2 = `${user}-2fa`;
    let secret = '';
    let recovery = [];
    await step('two-factor enrolment: QR code, code check, recovery codes shown once', async () => {
      await page.fill('#register-username', user2);
      await page.fill('#register-password', password);
      await page.fill('#register-confirm', password);
      await page.click('#register-submit');
      await hasText('#login-msg', /created/);
      await page.fill('#login-password', password);
      await page.click('#login-submit');
      await hasText('#me-username', new RegExp(`^${user2}$`));
      await hasText('#mfa-status', /^off$/);
      await page.click('#mfa-setup');
      await visible('#mfa-qr svg');
      secret = (await page.textContent('#mfa-secret')).trim();
      check(/^[A-Z2-7]{32}$/.test(secret), `secret ${secret}`);
      await page.fill('#mfa-code', '000000');
      await page.click('#mfa-enable');
      await hasText('#mfa-msg', /does not match/);
      await page.fill('#mfa-code', totp(secret));
      await page.click('#mfa-enable');
      await visible('#mfa-recovery');
      recovery = await page.locator('#recovery-codes li').allTextContents();
      check(recovery.length === 10, `${recovery.length} recovery codes`);
      await hasText('#mfa-status', /^on$/);
      await shot('09-recovery-codes.png');
      await ctx.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
      await page.click('#recovery-copy');
      await hasText('#mfa-msg', /clipboard/);
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      check(recovery.every((c) => copied.includes(c)), 'every code copied');
      await page.click('#recovery-done');
      check(await page.locator('#recovery-codes li').count() === 0, 'codes gone from the page');
    });

    await step('log in with a TOTP code computed in the test', async () => {
      await page.click('#logout-button');
      await visible('#signed-out');
      await page.fill('#login-username', user2);
      await page.fill('#login-password', password);
      await page.click('#login-submit');
      await visible('#mfa-form');
      check(await page.locator('#login-form').isHidden(), 'password form hidden at the second step');
      await page.fill('#mfa-login-code', '123456');
      await page.click('#mfa-login-submit');
      await hasText('#mfa-login-msg', /wrong or was already used/);
      await page.fill('#mfa-login-code', totp(secret, 1)); // the enabling code's step is spent
      await page.click('#mfa-login-submit');
      await visible('#signed-in');
      await hasText('#me-username', new RegExp(`^${user2}$`));
      await hasText('#mfa-status', /^on$/);
      await page.reload({ timeout: T });
      await ready();
      await hasText('#me-username', new RegExp(`^${user2}$`));
      await shot('10-two-factor-on.png');
    });

    await step('end another session from the list', async () => {
      // Another device: an API client signing in with a recovery code.
      const other = await page.evaluate(async ([name, pw, code]) => {
        const post = (path, body) => fetch(path, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
        }).then((r) => r.json());
        const step1 = await post('/api/login', { username: name, password: pw });
        const step2 = await post('/api/login/mfa', { mfa_token: step1.mfa_token, recovery_code: code });
        return step2.access_token;
      }, [user2, password, recovery[0]]);
      check(typeof other === 'string' && other.length > 20, 'second session signed in');
      await page.click('#sessions-reload');
      await page.locator('#sessions-list li').nth(1).waitFor({ state: 'visible', timeout: T });
      check(await page.locator('#sessions-list li').count() === 2, 'two sessions listed');
      const foreign = page.locator('#sessions-list li:not(:has(.badge))'); // not this device
      await foreign.locator('button').click();
      await hasText('#sessions-msg', /signed out/);
      await page.waitForFunction(() => document.querySelectorAll('#sessions-list li').length === 1, null, { timeout: T });
      const status = await page.evaluate(async (tok) => (await fetch('/api/me', {
        headers: { Authorization: `Bearer ${tok}` } })).status, other);
      check(status === 401, `the ended session's access token answered ${status}`);
      await hasText('#me-username', new RegExp(`^${user2}$`));
      await shot('11-sessions.png');
    });

    await step('turn two-factor off with a recovery code', async () => {
      await page.fill('#mfa-disable-password', password);
      await page.fill('#mfa-disable-code', recovery[0]); // spent: refused
      await page.click('#mfa-disable-submit');
      await hasText('#mfa-msg', /wrong or was already used/);
      await page.fill('#mfa-disable-code', recovery[1]);
      await page.click('#mfa-disable-submit');
      await hasText('#mfa-msg', /Two-factor is off/);
      await hasText('#mfa-status', /^off$/);
      await page.click('#logout-button');
      await visible('#signed-out');
    });

    await step('a 429 shows Retry-After and holds the button', async () => {
      await page.route('**/api/login', (route) => route.fulfill({
        status: 429,
        headers: { 'Retry-After': '7', 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: 'rate_limited', detail: 'too many attempts, retry later' }),
      }));
      await page.fill('#login-password', 'anything at all');
      await page.click('#login-submit');
      await hasText('#login-msg', /Too many attempts\. Try again in 7 seconds/);
      await hasText('#login-msg', /Server: too many attempts/);
      check(await page.isDisabled('#login-submit'), 'login button held');
      await page.unroute('**/api/login');
    });

    await step('a network failure is explained', async () => {
      await page.route('**/api/register', (route) => route.abort('connectionrefused'));
      await page.fill('#register-username', `${user}-x`);
      await page.fill('#register-password', password);
      await page.fill('#register-confirm', password);
      await page.click('#register-submit');
      await hasText('#register-msg', /Cannot reach the server/);
      await page.unroute('**/api/register');
    });

    await step('the page over plain HTTP (demo mode) warns about it', async () => {
      const res = await page.goto(`${HTTP_BASE}/`, { timeout: T });
      check(res && res.status() === 200, `status ${res && res.status()}`);
      check(page.url().startsWith('http://'), `stayed on plain HTTP: ${page.url()}`);
      await ready();
      await visible('#plain-http-warning');
    });

    await step('the demo page explains a 404: start the server with --demo', async () => {
      await page.goto(`${BASE}/demo.html`, { timeout: T });
      await ready();
      await page.route('**/demo/run', (route) => route.fulfill({
        status: 404,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ error: 'not_found', detail: 'no such resource' }),
      }));
      await page.click('#run-button');
      await hasText('#demo-msg', /start the server with --demo/);
      check(await page.locator('#results').isHidden(), 'no results on 404');
      await page.unroute('**/demo/run');
      await shot('05-demo-off.png', false);
    });

    let demo = null;
    await step('the demo page runs the comparison and shows both panels', async () => {
      const isRun = (r) => r.url().endsWith('/demo/run');
      const answer = Promise.race([
        page.waitForResponse(isRun, { timeout: DEMO_T }),
        page.waitForEvent('requestfailed', { predicate: isRun, timeout: DEMO_T }).then((r) => {
          throw new Error(`POST /demo/run failed: ${r.failure() ? r.failure().errorText : 'no answer'}`);
        }),
      ]);
      await page.click('#run-button');
      const res = await answer;
      check(res.status() === 200, `POST /demo/run answered ${res.status()} (is the demo server side in?)`);
      demo = await res.json();
      await visible('#results');
      await visible('#panel-http');
      await visible('#panel-https');
      check(demo.http.password_visible === true, 'server: password visible over HTTP');
      check(demo.https.password_visible === false, 'server: password not visible over HTTPS');
      const httpWire = await page.textContent('#http-wire');
      check(httpWire.includes(demo.password), 'HTTP panel shows the password');
      check(await page.locator('#http-wire mark').count() > 0, 'password highlighted');
      await hasText('#http-verdict', /clear text/);
      await hasText('#https-verdict', /appears nowhere/);
      const records = await page.locator('#https-records tr').count();
      check(records >= 3, `HTTPS records listed: ${records}`);
      await hasText('#https-records', /Application data/);
      await hasText('#https-records', /Handshake/);
      const httpsWire = await page.textContent('#https-wire');
      check(!httpsWire.includes(demo.password), 'HTTPS panel does not show the password');
      await hasText('#timing-note', new RegExp(`medians of ${demo.runs} runs`, 'i'));
      check(await page.locator('#cost-rows tr').count() === 7, 'seven cost rows');
      await shot('06-demo.png');
    });

    await step('narrow screens: no horizontal scrolling', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      const over = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(await over() <= 0, `demo page overflows by ${await over()} px`);
      await shot('07-demo-narrow.png');
      await page.goto(`${BASE}/`, { timeout: T });
      await ready();
      check(await over() <= 0, `login page overflows by ${await over()} px`);
      await shot('08-login-narrow.png');
    });

    await step('no CSP violation and no script error on any page', async () => {
      check(problems.length === 0, problems.join('\n'));
    });
  } finally {
    await ctx.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => {
  console.log(`${passed} passed, 0 failed`);
  process.exit(0);
}, (e) => {
  console.log(`${passed} passed, 1 failed`);
  if (!String(e && e.message).startsWith('check failed')) console.error(e);
  process.exit(1);
});
