// A leader finds every report from the menu, in Debian's headless Chromium. Run by
// tests/api/staff_reports.rs:
//
//   node tests/browser/reports.mjs <base URL> <leader username> <password> <period key> <period label>
//
// Signs in, opens "Báo cáo & xuất dữ liệu" from the menu, downloads the period's export as XLSX
// and as JSON (checking the files), opens the periodic report of that period and the public page.
// Fails on console errors or requests to another origin; screenshots under artifacts/ (and
// docs/screenshots/ with UPDATE_SCREENSHOTS=1).

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import { check, fail, launch, shoot, signIn, watch } from './kit.mjs';

const [base, username, password, periodKey, periodLabel] = process.argv.slice(2);
if (!base || !username || !password || !periodKey || !periodLabel) {
  fail('usage: node reports.mjs <base URL> <username> <password> <period key> <period label>');
}

const browser = await launch(chromium);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watch(page, base);
  await signIn(page, base, username, password, /\/dashboard/);

  // the menu leads to the page
  await Promise.all([page.waitForURL(/\/reports$/), page.getByRole('link', { name: 'Báo cáo & xuất dữ liệu' }).click()]);
  await page.getByRole('heading', { level: 1, name: /Báo cáo & xuất dữ liệu/ }).waitFor();
  await shoot(page, 'staff-reports-1280');

  async function download(format) {
    await page.locator('#export-period').selectOption(periodKey);
    await page.locator('#export-format').selectOption(format);
    const [file] = await Promise.all([page.waitForEvent('download'), page.locator('#export-button').click()]);
    const name = file.suggestedFilename();
    check(name.endsWith(`${periodKey}.${format}`), `the ${format} download is named ${name}`);
    return fs.readFileSync(await file.path());
  }
  const xlsx = await download('xlsx');
  check(xlsx.subarray(0, 2).toString() === 'PK', 'the XLSX download is not a spreadsheet');
  const doc = JSON.parse((await download('json')).toString('utf8'));
  const exported = doc.content && doc.content.period && doc.content.period.key;
  check(exported === periodKey, `the JSON export is of period ${exported}`);
  const csv = (await download('csv')).toString('utf8');
  check(csv.length > 0, 'the CSV download is empty');

  // the periodic report of the chosen period
  await page.locator('#report-period').selectOption(periodKey);
  await Promise.all([page.waitForURL(/\/reports\/periodic\?/), page.locator('#report-button').click()]);
  const text = await page.locator('body').innerText();
  check(text.includes(periodLabel), `the periodic report does not name ${periodLabel}`);
  await shoot(page, 'staff-periodic-report-1280');

  // and the public page
  await page.goBack();
  await Promise.all([page.waitForURL(/\/public\//), page.locator('#public-link').click()]);
  const publicText = await page.locator('body').innerText();
  check(publicText.includes('Chiêm Hóa'), 'the public page does not name the unit');

  check(problems.length === 0, problems.join('\n'));
  console.log(`reports ok: xlsx ${xlsx.length} bytes, json of ${exported}, csv ${csv.length} bytes`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
