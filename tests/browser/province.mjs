// Province staff work from their own pages, in Debian's headless Chromium. Run by
// tests/api/province_pages.rs:
//
//   node tests/browser/province.mjs <base URL> <username> <password> <downloads dir> <period> <previous period> <file>…
//
// Signs in (a province account lands on the upload page), uploads the files (an XLSX among them)
// in one go and reads each file's outcome; follows the page's link to the ranking of the period it
// imported (the default: the latest period with imports), downloads that ranking as CSV and as
// XLSX into <downloads dir> for the runner to check, then picks the previous period in the picker
// and reads which communes are listed as not submitted; last, an address with a bad period shows
// the picker and a Vietnamese message. Prints what it saw as one JSON line. Fails on console
// errors, on answers ≥ 400 other than the one bad-period page, and on requests to another origin;
// screenshots under artifacts/ (and docs/screenshots/ with UPDATE_SCREENSHOTS=1).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { check, fail, launch, shoot, signIn, watch } from './kit.mjs';

const [base, username, password, downloads, period, previous, ...files] = process.argv.slice(2);
if (!base || !username || !password || !downloads || !period || !previous || files.length === 0) {
  fail('usage: node province.mjs <base URL> <username> <password> <downloads dir> <period> <previous period> <file>…');
}

const browser = await launch(chromium);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watch(page, base);
  await signIn(page, base, username, password, /\/province\/upload$/);
  // the staff layout: the province menu and sign-out, nothing of a commune
  check(await page.getByRole('button', { name: 'Đăng xuất' }).isVisible(), 'no sign-out on the upload page');
  check(await page.getByRole('link', { name: 'Xếp hạng các xã' }).isVisible(), 'no ranking in the menu');
  check(await page.getByRole('link', { name: 'Bảng theo dõi' }).count() === 0, 'a commune menu entry for province staff');

  // every file in one upload; each one's outcome is listed
  await page.setInputFiles('#files', files);
  await page.getByRole('button', { name: 'Kiểm tra và nhập' }).click();
  await page.waitForFunction((n) => document.querySelectorAll('#results tbody tr').length === n, files.length, { timeout: 30000 });
  const uploaded = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => ({
    status: tr.dataset.status,
    cells: Array.from(tr.cells).map((c) => c.textContent),
  })));
  const summary = await page.locator('#summary').innerText();
  await shoot(page, 'province-upload-1280');

  // the page's link leads to a working ranking of the period just imported
  await Promise.all([page.waitForURL(/\/province\/ranking/), page.locator('#to-ranking').click()]);
  const heading = await page.getByRole('heading', { level: 1 }).innerText();
  const selected = await page.locator('#period').inputValue();
  check(selected === period, `the picker shows ${selected}, not ${period}`);
  const rows = async () => page.$$eval('#ranking tbody tr', (trs) => trs.map((tr) => ({
    unit: tr.dataset.unit,
    missing: tr.classList.contains('missing'),
    cells: Array.from(tr.cells).map((c) => c.textContent),
  })));
  const ranking = await rows();
  await shoot(page, 'province-ranking-1280');

  // the ranking downloaded, both spreadsheet forms, for the runner to read
  fs.mkdirSync(downloads, { recursive: true });
  const saved = {};
  for (const [id, format] of [['#download-csv', 'csv'], ['#download-xlsx', 'xlsx']]) {
    const [file] = await Promise.all([page.waitForEvent('download'), page.locator(id).click()]);
    const name = file.suggestedFilename();
    check(name === `sipas-ranking-${period}.${format}`, `the ${format} download is named ${name}`);
    const to = path.join(downloads, name);
    await file.saveAs(to);
    saved[format] = to;
  }

  // another period, chosen in the picker
  await page.locator('#period').selectOption(previous);
  await Promise.all([page.waitForURL(new RegExp(`period=${previous}`)), page.locator('#show').click()]);
  const before = await rows();
  const beforeHeading = await page.getByRole('heading', { level: 1 }).innerText();

  // a bad period: the picker and a Vietnamese message, never an English error
  const bad = await page.goto(`${base}/province/ranking?period=2026-Q7`);
  const badStatus = bad.status();
  const message = await page.locator('#message').innerText();
  check(await page.locator('#period').isVisible(), 'no picker after a bad period');
  // that page's 400, and the console line Chromium writes for it, are expected
  const expected = [`400 from ${base}/province/ranking?period=2026-Q7`,
    'console: Failed to load resource: the server responded with a status of 400 (Bad Request)'];
  const left = problems.filter((p) => !expected.includes(p));
  check(left.length === 0, left.join('\n'));
  console.log(JSON.stringify({ uploaded, summary, heading, ranking, saved, before, beforeHeading, badStatus, message }));
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
