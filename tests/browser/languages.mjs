// A third language on a phone-sized screen, in Debian's headless Chromium. Run by
// tests/api/browser.rs with the test translation loaded (tests/translations: the Vietnamese
// wording marked "[TEST-tay]", not a real translation):
//
//   node tests/browser/languages.mjs <survey URL>
//
// The resident taps "Tày (TEST)", answers the first screen, sees the case screen in it, and on a
// screen whose title the file leaves out reads the Vietnamese title instead of a blank.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.resolve(here, '..', '..', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function check(condition, message) {
  if (!condition) throw new Error(message);
}

const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node languages.mjs <survey URL>');
  process.exit(1);
}
fs.mkdirSync(artifacts, { recursive: true });

async function noSideScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  check(scroll <= width, `${where}: the page is ${scroll} px wide in a ${width} px window`);
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'vi-VN', isMobile: true, hasTouch: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(url);
  await page.getByRole('heading', { name: /^Nhìn chung, Ông\/Bà hài lòng/ }).waitFor();
  await noSideScroll(page, 'first screen with three language switches');
  await page.getByRole('link', { name: 'Tày (TEST)' }).tap();
  await page.getByRole('heading', { name: /^\[TEST-tay\] Nhìn chung/ }).waitFor();
  check((await page.locator('html').getAttribute('lang')) === 'tay', 'the page is not marked as Tày');
  check(await page.getByRole('link', { name: 'Tiếng Việt' }).isVisible(), 'no way back to Vietnamese');
  await page.screenshot({ path: path.join(artifacts, 'survey-third-language-360x740.png') });
  await noSideScroll(page, 'first screen in Tày (TEST)');
  await page.getByRole('button', { name: '[TEST-tay] Hài lòng', exact: true }).tap();

  await page.getByRole('heading', { name: '[TEST-tay] Về hồ sơ của Ông/Bà' }).waitFor();
  check(!/lang=/.test(page.url()) || /lang=tay/.test(page.url()), `the language was lost: ${page.url()}`);
  await page.getByRole('group', { name: /^\[TEST-tay\] Kết quả được trả/ }).getByLabel('[TEST-tay] Đúng ngày hẹn').tap();
  check(await page.getByRole('link', { name: 'Bỏ qua trang này' }).isVisible(), 'the untranslated "skip" is not shown in Vietnamese');
  await page.screenshot({ path: path.join(artifacts, 'survey-third-language-case-360x740.png'), fullPage: true });
  await page.getByRole('button', { name: '[TEST-tay] Gửi và tiếp tục' }).tap();

  // the SIPAS invitation has no text in the file: all of it in Vietnamese
  await page.getByRole('heading', { name: 'Xin thêm vài phút nữa?' }).waitFor();
  await page.getByRole('link', { name: 'Trả lời tiếp' }).tap();
  // E1's title is left out of the file: the Vietnamese title, its statements in Tày (TEST)
  await page.getByRole('heading', { name: 'Tiếp cận dịch vụ hành chính công', exact: true }).waitFor();
  const first = await page.locator('main fieldset legend').first().textContent();
  check(first.startsWith('[TEST-tay] '), `E1's first statement: ${first}`);
  const blanks = await page.$$eval('h1, legend, label, button, a', (els) => els.filter((e) => e.offsetParent !== null && !e.textContent.trim()).length);
  check(blanks === 0, `${blanks} blank headings, questions or controls`);
  await page.screenshot({ path: path.join(artifacts, 'survey-third-language-fallback-360x740.png'), fullPage: true });
  await noSideScroll(page, 'E1 in Tày (TEST)');
  check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await context.close();
  console.log('browser languages: 1 passed, 0 failed');
} catch (e) {
  await browser.close();
  console.error(`browser test failed: ${e.stack || e}`);
  process.exit(1);
}
await browser.close();
