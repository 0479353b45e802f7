// The desk in Debian's headless Chromium, as commune staff use it. Run by tests/api/staff_desk.rs:
//
//   node tests/browser/desk.mjs <base URL> <officer username> <password> <admin username> <password>
//
// 1. An officer signs in and opens the desk: the officer list holds only them (nobody else is
//    pre-selected), no API key is asked for; they issue a slip, and the customer screen (a second
//    window of the same browser) shows that slip's code.
// 2. They pre-print an A4 sheet of 3 slips: the customer screen keeps showing the slip just handed
//    over, never one from the drawer; the next slip they hand over replaces it.
// 3. On another computer (a fresh browser), an admin pairs it with the unit once and signs out;
//    with nobody signed in, the desk issues with the paired key, after the officer picked their
//    own name (no officer is pre-selected).
//
// It fails on any console error, page error or request to another origin, and saves screenshots
// under artifacts/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1). Exits non-zero on failure.

import { chromium } from 'playwright-core';
import { check, fail, launch, shoot, watch } from './kit.mjs';

const [base, officer, officerPassword, admin, adminPassword] = process.argv.slice(2);
if (!base || !officer || !officerPassword || !admin || !adminPassword) {
  fail('usage: node desk.mjs <base URL> <officer> <password> <admin> <password>');
}

const browser = await launch(chromium);

async function signIn(page, username, password, next) {
  await page.goto(`${base}/login?next=${encodeURIComponent(next)}`);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await Promise.all([page.waitForURL((u) => u.pathname === next), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
}

async function pickProcedure(page, words) {
  await page.locator('#procedure-search').fill(words);
  await page.waitForFunction(() => document.querySelectorAll('#procedure option').length >= 1
    && /khai sinh/i.test(document.querySelector('#procedure option').textContent));
}

// Presses "Phát phiếu"; resolves with the typed code of the slip the desk then shows.
async function issue(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/invitations') && r.request().method() === 'POST'),
    page.locator('#issue-button').click(),
  ]);
  const body = await response.json();
  check(response.status() === 201, `issuing answered ${response.status()}: ${JSON.stringify(body)}`);
  const code = `${body.code.slice(0, 4)}-${body.code.slice(4)}`;
  await page.waitForFunction((c) => {
    const shown = document.querySelector('#slip-area .slip-code');
    return shown && shown.textContent.trim() === c;
  }, code);
  return code;
}

async function screenCode(screen) {
  await screen.locator('#screen-qr').waitFor({ state: 'visible' });
  return (await screen.locator('#screen-code').textContent()).trim();
}

try {
  // ---------------------------------------------------------------- 1. the officer, signed in
  const officerPc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const desk = await officerPc.newPage();
  const problems = watch(desk, base);
  await signIn(desk, officer, officerPassword, '/desk');
  await desk.locator('#issue-section').waitFor({ state: 'visible' });
  check(await desk.locator('#key-section').isHidden(), 'a signed-in officer was asked for an API key');
  await desk.waitForFunction(() => document.querySelectorAll('#officer option').length >= 1);
  const options = await desk.locator('#officer option').allTextContents();
  check(options.length === 1, `the officer list offers others than the signed-in officer: ${options.join(' | ')}`);
  check(await desk.locator('#officer').inputValue() === 'CB01', 'the desk does not pre-select the signed-in officer');
  check(await desk.locator('#officer').isDisabled(), 'a signed-in officer can switch to a colleague');
  const as = (await desk.locator('#issuing-as').textContent()).trim();
  check(as.includes(officer), `the desk does not say whom slips are credited to: "${as}"`);
  await pickProcedure(desk, 'khai sinh');
  const first = await issue(desk);
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(first), `the slip shows no typed code: "${first}"`);
  await shoot(desk, 'desk-officer-signed-in-1280');

  const screen = await officerPc.newPage();
  const screenProblems = watch(screen, base);
  await screen.goto(`${base}/desk/screen`);
  check(await screenCode(screen) === first, 'the customer screen does not show the slip just issued');
  await shoot(screen, 'desk-customer-screen-1280');

  // ---------------------------------------------------------------- 2. an A4 sheet in advance
  await desk.locator('.sheet-box summary').click();
  await desk.locator('#sheet-count').fill('3');
  await Promise.all([
    desk.waitForResponse((r) => r.url().endsWith('/api/v1/invitations/batch')),
    desk.getByRole('button', { name: /Tạo tờ A4/ }).click(),
  ]);
  await desk.locator('#sheet-link').waitFor({ state: 'visible' });
  const sheetHref = await desk.locator('#sheet-link').getAttribute('href');
  check((sheetHref.match(/,/g) || []).length === 2, `the sheet link does not hold 3 slips: ${sheetHref}`);
  // two polls of the screen later it still shows the slip handed over, not one from the drawer
  await screen.waitForTimeout(6500);
  check(await screenCode(screen) === first, 'pre-printing an A4 sheet changed the customer screen');
  const second = await issue(desk);
  check(second !== first, 'the second slip has the first one\'s code');
  // the screen polls every 3 s; under a full test run's load a poll can take several
  await screen.waitForFunction((code) => document.querySelector('#screen-code').textContent.trim() === code,
    second, { timeout: 20000 });

  // ---------------------------------------------------------------- 3. a shared desk computer
  const sharedPc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const pc = await sharedPc.newPage();
  const pcProblems = watch(pc, base);
  await pc.goto(`${base}/desk`);
  await pc.locator('#key-section').waitFor({ state: 'visible' });
  check(await pc.locator('#sign-in-link').count() === 1, 'the desk offers no sign-in to issue as oneself');
  await signIn(pc, admin, adminPassword, '/desk');
  await pc.locator('#pair-section').waitFor();
  await pc.locator('#pair-unit').selectOption('CHIEMHOA');
  await pc.locator('#pair-name').fill('Quầy 1');
  await shoot(pc, 'desk-pairing-1280');
  await Promise.all([
    pc.waitForResponse((r) => r.url().endsWith('/api/v1/desk/pairings')),
    pc.locator('#pair-button').click(),
  ]);
  // the response has arrived when its headers have; the page writes the status after its body
  await pc.waitForFunction(() => document.querySelector('#pair-status').textContent.trim() !== '');
  const paired = (await pc.locator('#pair-status').textContent()).trim();
  check(paired.startsWith('Đã ghép máy'), `the pairing did not succeed: "${paired}"`);
  // the admin signs out from a staff page; the computer keeps its pairing
  await pc.goto(`${base}/admin/users`);
  await Promise.all([pc.waitForURL(/\/login/), pc.getByRole('button', { name: 'Đăng xuất' }).click()]);
  await pc.goto(`${base}/desk`);
  await pc.locator('#issue-section').waitFor({ state: 'visible' });
  check(await pc.locator('#key-section').isHidden(), 'the paired computer asks for an API key');
  await pc.waitForFunction(() => document.querySelectorAll('#officer option').length >= 3);
  check(await pc.locator('#officer').inputValue() === '', 'the shared desk pre-selects an officer');
  await pickProcedure(pc, 'khai sinh');
  await pc.locator('#issue-button').click();
  const refused = (await pc.locator('#issue-error').textContent()).trim();
  check(refused.startsWith('Chọn cán bộ'), `issuing without choosing the officer was not stopped: "${refused}"`);
  await pc.locator('#officer').selectOption('CB02');
  const third = await issue(pc);
  check(/^[0-9A-Z]{4}-[0-9A-Z]{4}$/.test(third), `the paired desk's slip shows no code: "${third}"`);

  const all = [...problems, ...screenProblems, ...pcProblems];
  check(all.length === 0, all.join('\n'));
  console.log(`desk ok: officer slips ${first}, ${second}; paired desk slip ${third}`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
