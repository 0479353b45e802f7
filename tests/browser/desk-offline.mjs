// The desk with the commune's line down, in Debian's headless Chromium. Run by
// tests/api/desk_offline.rs:
//
//   node tests/browser/desk-offline.mjs <base URL> <admin username> <password>
//
// 1. An admin pairs a desk computer (its browser makes an Ed25519 key pair; the service keeps
//    the public half); the desk page is loaded once more online, so its service worker keeps the
//    page, its scripts and the unit's data.
// 2. The service becomes unreachable (context.setOffline(true), and every request of the
//    context aborted as a lost connection — the service worker's own requests included, which
//    setOffline alone does not reach): the desk page reloads from the worker, the officer picks
//    a procedure from the kept data and issues; the slip is signed on the computer, shown with
//    its QR (saved as artifacts/desk-offline-qr.png for the Rust side to decode) and a typed
//    code, laid out for print, and queued in IndexedDB.
// 3. A resident whose phone reaches the service opens the slip's address and answers.
// 4. The desk's line returns, its page still open: the queue is sent (200: the invitation the
//    scan made) and emptied;
//    the slip's typed code now leads to the same survey.
//
// Prints `offline-url: …` (the slip's address). Exits non-zero on failure.

import path from 'node:path';
import { artifacts, check, fail, launch, shoot } from './kit.mjs';

// Lets context.route see (and abort) the service worker's requests too.
process.env.PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS = '1';
const { chromium } = await import('playwright-core');

const [base, admin, adminPassword] = process.argv.slice(2);
if (!base || !admin || !adminPassword) fail('usage: node desk-offline.mjs <base URL> <admin> <password>');

const browser = await launch(chromium);
const problems = [];
let offline = false;

function watch(page) {
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    // a lost connection is logged by Chromium for each failed request: expected while offline
    if (m.type() === 'error' && !(offline && /ERR_INTERNET_DISCONNECTED|Failed to load resource|Failed to fetch/.test(m.text()))) {
      problems.push(`console: ${m.text()}`);
    }
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !u.startsWith('data:')) problems.push(`request to another origin: ${u}`);
  });
}

const abort = (route) => route.abort('internetdisconnected');

try {
  // ---------------------------------------------------------------- 1. pairing, online
  const deskPc = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 2, locale: 'vi-VN', serviceWorkers: 'allow' });
  const desk = await deskPc.newPage();
  watch(desk);
  await desk.goto(`${base}/login?next=${encodeURIComponent('/desk')}`);
  await desk.getByLabel('Tên đăng nhập').fill(admin);
  await desk.getByLabel('Mật khẩu').fill(adminPassword);
  await Promise.all([desk.waitForURL((u) => u.pathname === '/desk'), desk.getByRole('button', { name: 'Đăng nhập' }).click()]);
  await desk.locator('#pair-unit').selectOption('CHIEMHOA');
  await desk.locator('#pair-name').fill('Quầy 1');
  const [paired] = await Promise.all([
    desk.waitForResponse((r) => r.url().endsWith('/api/v1/desk/pairings')),
    desk.locator('#pair-button').click(),
  ]);
  const pairing = await paired.json();
  check(paired.status() === 201 && Number.isInteger(pairing.desk_key_id),
    `the pairing registered no desk key: ${paired.status()} ${JSON.stringify(pairing)}`);
  await desk.waitForFunction(() => window.SipasOffline && window.SipasOffline.getKey().then((k) => !!k));
  // the worker controls the page once it is active; load the page under it so it keeps the data
  await desk.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 10000 });
  await desk.reload();
  await desk.locator('#issue-section').waitFor({ state: 'visible' });
  await desk.waitForFunction(async () => !!(await caches.match('/api/v1/desk/unit-data'))
    && !!(await caches.match('/api/v1/officers')) && !!(await caches.match('/desk')), null, { timeout: 10000 });

  // ---------------------------------------------------------------- 2. the line is down
  offline = true;
  await deskPc.setOffline(true);
  await deskPc.route('**', abort);
  const probe = await desk.evaluate(() => fetch('/healthz', { cache: 'no-store' }).then(() => 'reached', () => 'unreachable'));
  check(probe === 'unreachable', 'the service can still be reached with the context offline');
  await desk.reload();
  await desk.locator('#issue-section').waitFor({ state: 'visible' });
  await desk.waitForFunction(() => document.querySelectorAll('#officer option').length >= 3);
  await desk.locator('#officer').selectOption('CB02');
  await desk.locator('#procedure-search').fill('khai sinh');
  await desk.waitForFunction(() => document.querySelectorAll('#procedure option').length >= 1
    && /khai sinh/i.test(document.querySelector('#procedure option').textContent));
  await desk.locator('#issue-button').click();
  const slip = desk.locator('#slip-area .slip-offline');
  await slip.waitFor({ state: 'visible', timeout: 10000 });
  const url = await slip.getAttribute('data-url');
  check(url && url.startsWith(`${base}/o/`) && url.length < 260, `the offline slip's address: ${url}`);
  const code = (await slip.locator('.slip-code').textContent()).trim();
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(code), `the offline slip shows no typed code: "${code}"`);
  const how = await slip.locator('.slip-how').textContent();
  check(how.includes('sau khi quầy có mạng trở lại') && how.includes('once the desk is back online'),
    `the slip does not say when its typed code works: "${how}"`);
  check((await slip.locator('.slip-url').textContent()).trim() === url, 'the slip does not print its address');
  check(await slip.locator('svg.slip-qr path').count() === 1, 'the offline slip has no QR');
  await slip.locator('svg.slip-qr').screenshot({ path: path.join(artifacts, 'desk-offline-qr.png') });
  const queued = await desk.evaluate(() => window.SipasOffline.queued().then((q) => q.map((r) => r.token)));
  check(queued.length === 1 && url.endsWith(queued[0]), `the queue holds ${JSON.stringify(queued)}`);
  // printed: the slip alone, the desk's controls hidden
  await desk.emulateMedia({ media: 'print' });
  check(await slip.isVisible(), 'the offline slip is not printed');
  check(await desk.locator('#issue-section').isHidden(), 'the desk form is printed with the slip');
  await shoot(desk, 'desk-offline-slip-print');
  await desk.emulateMedia({ media: 'screen' });
  await shoot(desk, 'desk-offline-slip-1280');

  // ---------------------------------------------------------------- 3. the resident, online
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', isMobile: true });
  const resident = await phone.newPage();
  watch(resident);
  await resident.goto(url);
  check(new URL(resident.url()).pathname.startsWith('/s/'), `the slip's address led to ${resident.url()}`);
  const survey = new URL(resident.url()).pathname;
  await resident.getByRole('button', { name: 'Hài lòng', exact: true }).click();
  await resident.getByRole('heading', { name: 'Về hồ sơ của Ông/Bà' }).waitFor();

  // ---------------------------------------------------------------- 4. the desk's line returns
  // the page stays open, as at a real desk: it sends its queue on the 'online' event, or at the
  // latest by its 20-second retry (reloading here would race the 'online' event's send and lose
  // its message)
  await deskPc.unroute('**', abort);
  await deskPc.setOffline(false);
  offline = false;
  await desk.locator('#offline-status').filter({ hasText: 'Đã gửi 1 phiếu' }).waitFor({ timeout: 30000 });
  const left = await desk.evaluate(() => window.SipasOffline.queued().then((q) => q.length));
  check(left === 0, `the queue still holds ${left} records after the line returned`);
  const typed = await phone.request.get(`${base}/c/${code.replace('-', '')}`, { maxRedirects: 0 });
  check(typed.status() === 303 && typed.headers().location === survey,
    `the typed code answered ${typed.status()} ${typed.headers().location}, not ${survey}`);

  check(problems.length === 0, problems.join('\n'));
  console.log(`offline-url: ${url}`);
  console.log(`desk offline ok: slip ${code}, survey ${survey}`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
