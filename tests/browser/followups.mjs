// Follow-ups and comments in Debian's headless Chromium. Run by tests/api/staff_followups.rs:
//
//   node tests/browser/followups.mjs <base URL> <leader username> <password>
//
// A leader opens "Phản hồi": statuses and owners are in Vietnamese (no raw codes); they give the
// follow-up to an officer's account chosen from the list; then they open "Ý kiến" from the menu
// and keep only the unsatisfied comments. Fails on console errors or requests to another origin;
// screenshots under artifacts/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1).

import { chromium } from 'playwright-core';
import { check, fail, launch, shoot, watch } from './kit.mjs';

const [base, username, password] = process.argv.slice(2);
if (!base || !username || !password) fail('usage: node followups.mjs <base URL> <username> <password>');

const RAW = /\b(new|in_progress|answered|closed|resolved|unfounded|no_action)\b|leader:/;

const browser = await launch(chromium);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const page = await context.newPage();
  const problems = watch(page, base);
  await page.goto(`${base}/login`);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await Promise.all([page.waitForURL(/\/dashboard/), page.getByRole('button', { name: 'Đăng nhập' }).click()]);

  await Promise.all([page.waitForURL(/\/followups/), page.getByRole('link', { name: 'Phản hồi', exact: true }).click()]);
  const item = page.locator('section.followup').first();
  await item.waitFor();
  const shown = await page.locator('main').innerText();
  check(!RAW.test(shown), `the follow-ups page shows raw codes: ${shown.match(RAW)}`);
  check((await item.locator('.status').textContent()).trim() === 'Mới', 'the status is not in Vietnamese');
  await shoot(page, 'staff-followups-1280');

  // give it to an officer's account from the list
  const owner = item.getByLabel('Giao cho');
  const choices = await owner.locator('option').allTextContents();
  check(choices.length >= 3, `"Giao cho" offers ${choices.length} owners: ${choices.join(' | ')}`);
  await owner.selectOption('officer1');
  await Promise.all([page.waitForURL(/\/followups/), item.getByRole('button', { name: 'Giao' }).click()]);
  const after = await page.locator('section.followup').first().innerText();
  check(after.includes('phụ trách Nguyễn Thị Lan (officer1, cán bộ một cửa)'), `the new owner is not shown: ${after}`);

  // the comments page, unsatisfied only
  await Promise.all([page.waitForURL(/\/comments/), page.getByRole('link', { name: 'Ý kiến', exact: true }).click()]);
  const all = await page.locator('table.comments tbody tr').count();
  check(all === 2, `the comments page lists ${all} comments, not 2`);
  await page.locator('#rating').selectOption('2');
  await Promise.all([page.waitForURL(/rating=2/), page.getByRole('button', { name: 'Xem' }).click()]);
  const rows = await page.locator('table.comments tbody tr').allInnerTexts();
  check(rows.length === 1 && rows[0].includes('Phải chờ quá lâu'), `the rating filter kept: ${rows.join(' | ')}`);
  await shoot(page, 'staff-comments-1280');

  check(problems.length === 0, problems.join('\n'));
  console.log(`followups ok: ${choices.length} owners offered, ${all} comments, 1 unsatisfied`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
