// Browser test: enroll an authenticator app the way an employee does, in
// Debian's headless Chromium (playwright-core, no downloaded browser).
// The QR code is read back from a screenshot by zbarimg and the codes come
// from oathtool: programs we did not write judge what the page shows.
// Prints TAP; screenshots stay in tests/artifacts/e2e/.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = process.env.TP_SRC || path.resolve(here, '..', '..');
const artifacts = path.join(src, 'tests', 'artifacts', 'e2e');
mkdirSync(artifacts, { recursive: true });

let n = 0;
let failed = 0;
function ok(name) { console.log(`ok ${++n} - ${name}`); }
function notOk(name, err) {
  failed++;
  console.log(`not ok ${++n} - ${name}`);
  for (const line of String(err && err.stack || err).split('\n')) console.log('# ' + line);
}
function check(cond, msg) { if (!cond) throw new Error(msg); }

function oathtool(...args) {
  return execFileSync('oathtool', args, { encoding: 'utf8' }).trim();
}

// Starts tests/e2e/launch.py and waits for its JSON line.
function launchPortal() {
  const proc = spawn('python3', [path.join(here, 'launch.py')], {
    stdio: ['pipe', 'pipe', 'inherit'], cwd: src,
  });
  const lines = readline.createInterface({ input: proc.stdout });
  return new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`launch.py exited ${code}`)));
    lines.once('line', (line) => resolve({ proc, env: JSON.parse(line) }));
  });
}

// Clicks a submit button and waits for the 'load' event of the page the
// form leads to.  waitForLoadState('load') would not do: the page being left
// is loaded already, so it returns at once, and the next step then races the
// POST and its redirect (a step-up form looked for on the password page).
async function submit(page, selector) {
  await Promise.all([page.waitForEvent('load'), page.click(selector)]);
}

async function signIn(page, base, user, password) {
  await page.goto(base + '/login');
  await page.fill('input[name="username"]', user);
  await page.fill('input[name="password"]', password);
  await submit(page, 'form[action="/login"] button[type="submit"]');
}

async function main() {
  const { proc, env } = await launchPortal();
  const base = env.base_url;
  const profile = mkdtempSync(path.join(tmpdir(), 'tp-e2e-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true,
    viewport: { width: 1100, height: 1000 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  const page = context.pages()[0] || await context.newPage();
  const st = {};
  const steps = [
    ['alice signs in with her password', async () => {
      await signIn(page, base, 'alice', env.users.alice);
      check(new URL(page.url()).pathname === '/', 'not on My tokens: ' + page.url());
      check(await page.locator('h1', { hasText: 'My tokens' }).count() === 1, 'no heading');
    }],
    ['she enrolls an authenticator app', async () => {
      await page.click('a[href="/enroll/totp"] >> nth=0');
      await page.fill('input[name="description"]', 'My phone');
      await Promise.all([page.waitForURL(/\/enroll\/activate\//),
        page.click('form[action="/enroll/totp"] button[type="submit"]')]);
      st.serial = page.url().split('/').pop();
      check(await page.locator('#qr svg').count() === 1, 'no QR code');
      st.shot = path.join(artifacts, 'activation.png');
      await page.screenshot({ path: st.shot, fullPage: true });
    }],
    ['the QR code in the screenshot decodes to the otpauth link', async () => {
      st.uri = execFileSync('zbarimg', ['--raw', '--quiet', '--nodbus', st.shot],
        { encoding: 'utf8' }).trim();
      const href = await page.getAttribute('#otpauth-uri', 'href');
      check(st.uri === href, `QR ${st.uri} != link ${href}`);
      st.secret = new URL(st.uri).searchParams.get('secret');
      const shown = (await page.textContent('#secret-base32')).replace(/\s/g, '');
      check(shown === st.secret, 'Base32 on the page differs from the QR');
    }],
    ['she activates it with the code oathtool computes', async () => {
      st.step = Math.floor(Date.now() / 1000 / 30);
      const code = oathtool('--totp', '-b', '-N', '@' + st.step * 30, st.secret);
      await page.fill('input[name="code"]', code);
      await Promise.all([page.waitForURL(/\/tokens\//),
        page.click('form[action^="/enroll/activate/"] button[type="submit"] >> nth=0')]);
      check(await page.locator('#status .badge.active').count() === 1, 'not active');
      check(await page.locator('#secret-base32').count() === 0, 'secret still shown');
      await page.screenshot({ path: path.join(artifacts, 'token.png'), fullPage: true });
    }],
    ['she signs out', async () => {
      await submit(page, 'form.signout button[type="submit"]');
      const r = await page.goto(base + '/');
      check(new URL(page.url()).pathname === '/login', 'still signed in: ' + page.url());
      check(r.status() === 200, 'login page status ' + r.status());
    }],
    ['signing in again asks for a code and takes the next one', async () => {
      await signIn(page, base, 'alice', env.users.alice);
      check(await page.locator('input[name="code"]').count() === 1, 'no step-up form');
      // The activation used its step: the next step is inside the window.
      const now = Math.floor(Date.now() / 1000 / 30);
      const step = Math.max(st.step + 1, now - 1);
      const code = oathtool('--totp', '-b', '-N', '@' + step * 30, st.secret);
      await page.fill('input[name="code"]', code);
      await submit(page, 'form[action="/login"] button[type="submit"]');
      check(new URL(page.url()).pathname === '/', 'step-up failed: ' + page.url());
    }],
    ['My tokens shows the token active, also on a phone', async () => {
      const row = page.locator(`tr[data-serial="${st.serial}"]`);
      check(await row.count() === 1, 'token not listed');
      check(await row.locator('.badge.active').count() === 1, 'token not active');
      check((await row.textContent()).includes('My phone'), 'description missing');
      await page.screenshot({ path: path.join(artifacts, 'my-tokens.png'), fullPage: true });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.reload();
      await page.screenshot({ path: path.join(artifacts, 'my-tokens-phone.png'), fullPage: true });
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 390, `the phone page scrolls sideways (${width}px)`);
      // Cards may touch the screen's edges; text outside them may not.
      const left = (await page.locator('main h1').first().boundingBox()).x;
      check(left >= 8, `the heading touches the screen's edge (x = ${left})`);
    }],
  ];
  console.log(`1..${steps.length}`);
  let stop = false;
  for (const [name, fn] of steps) {
    if (stop) { notOk(name, 'skipped after an earlier failure'); continue; }
    try { await fn(); ok(name); } catch (e) {
      notOk(name, e);
      stop = true;
      console.log('# at ' + page.url());
      await page.screenshot({ path: path.join(artifacts, `failure-${n}.png`), fullPage: true })
        .catch(() => {});
    }
  }
  await context.close();
  rmSync(profile, { recursive: true, force: true });
  proc.stdin.end();
  await new Promise((resolve) => proc.once('exit', resolve));
  process.exitCode = failed ? 1 : 0;
}

main().catch((e) => { notOk('environment', e); process.exit(1); });
