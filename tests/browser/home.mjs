// The first steps, in Debian's headless Chromium. Run by tests/api/staff_home.rs:
//
//   node tests/browser/home.mjs <base URL> <leader username> <password>
//
// A resident opens the address and reaches the code form; a staff member reaches the sign-in,
// signs in on an installation with no survey yet and reads what to do next on the dashboard.
// Fails on console errors or requests to another origin; screenshots under artifacts/ (and
// docs/screenshots/ with UPDATE_SCREENSHOTS=1).

import { chromium } from 'playwright-core';
import { check, fail, launch, shoot, watch } from './kit.mjs';

const [base, username, password] = process.argv.slice(2);
if (!base || !username || !password) fail('usage: node home.mjs <base URL> <username> <password>');

const browser = await launch(chromium);
try {
  // a resident on a phone
  const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', isMobile: true });
  const p = await phone.newPage();
  const phoneProblems = watch(p, base);
  const home = await p.goto(`${base}/`);
  check(home.headers()['content-type'].startsWith('text/html'), `/ answers ${home.headers()['content-type']}`);
  check((await p.locator('html').getAttribute('lang')) === 'vi', 'the home page is not in Vietnamese');
  await shoot(p, 'home-360');
  await Promise.all([p.waitForURL(/\/c$/), p.getByRole('link', { name: 'Nhập mã phiếu khảo sát' }).click()]);
  check(await p.locator('input').count() >= 1, 'the code page has no field to type the code');

  // a leader on the office PC
  const pc = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const page = await pc.newPage();
  const problems = watch(page, base);
  await page.goto(`${base}/`);
  await shoot(page, 'home-1280');
  await Promise.all([page.waitForURL(/\/login/), page.getByRole('link', { name: 'Đăng nhập' }).click()]);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await Promise.all([page.waitForURL(/\/dashboard/), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
  const guide = page.locator('#first-run');
  await guide.waitFor();
  const steps = await guide.locator('li').allTextContents();
  check(steps.length >= 3, `the empty dashboard gives ${steps.length} steps`);
  check(await guide.getByRole('link', { name: 'trang phát phiếu' }).first().isVisible(), 'the guide does not link the desk');
  await shoot(page, 'staff-dashboard-first-run-1280');
  // back home, signed in: the page leads to the staff pages
  await page.goto(`${base}/`);
  check(await page.getByRole('link', { name: 'Vào trang quản lý' }).isVisible(), 'signed in, the home page does not lead to the staff pages');

  const all = [...phoneProblems, ...problems];
  check(all.length === 0, all.join('\n'));
  console.log(`home ok: ${steps.length} first steps on the empty dashboard`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
