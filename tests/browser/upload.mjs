// The province staff's upload page in Debian's headless Chromium: chooses export files, submits
// them (one multipart request), and prints the table the page then shows, one row per file, as
// JSON. Run by tests/api/reporting.rs:
//
//   node tests/browser/upload.mjs <base URL> <sipas_session=… cookie of a province account> <file>…
//
// It fails on any console error or answer ≥ 400 other than the 422 a refused upload gets, and on
// any request to another origin. A screenshot lands in artifacts/province-upload-refused.png.

import { chromium } from 'playwright-core';
import { fail, launch, shoot, watch } from './kit.mjs';

const [base, cookie, ...files] = process.argv.slice(2);
if (!base || !cookie || files.length === 0) fail('usage: node upload.mjs <base URL> <cookie> <file>…');
const browser = await launch(chromium);
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const eq = cookie.indexOf('=');
  await context.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: base }]);
  const page = await context.newPage();
  const problems = watch(page, base);
  // signed in as province staff: the page's script posts with the session
  await page.goto(`${base}/province/upload`);
  await page.setInputFiles('#files', files);
  await page.click('#send');
  await page.waitForFunction((n) => document.querySelectorAll('#results tbody tr').length === n, files.length, { timeout: 30000 });
  const rows = await page.$$eval('#results tbody tr', (trs) => trs.map((tr) => ({
    status: tr.dataset.status,
    cells: Array.from(tr.cells).map((c) => c.textContent),
  })));
  const summary = await page.locator('#summary').innerText();
  await shoot(page, 'province-upload-refused');
  // the refused upload's 422 (and the console line Chromium writes for it) is expected
  const left = problems.filter((p) => !p.includes('422'));
  if (left.length) throw new Error(left.join('; '));
  console.log(JSON.stringify({ rows, summary }));
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
