// The province staff's upload page in Debian's headless Chromium: chooses export files, submits,
// and prints what the page then lists, one line per file, as JSON. Run by tests/api/reporting.rs:
//
//   node tests/browser/upload.mjs <base URL> <sipas_session=… cookie of a province account> <file>…
//
// It fails on any console error other than the 422 answers the refused files get, and on any
// request to another origin. A screenshot lands in artifacts/province-upload.png.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.resolve(here, '..', '..', 'artifacts');
const [base, cookie, ...files] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const context = await browser.newContext();
  const eq = cookie.indexOf('=');
  await context.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: base }]);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('422')) problems.push(m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) problems.push(`request to ${r.url()}`);
  });
  // signed in as province staff: the page's script posts with the session
  await page.goto(`${base}/province/upload`);
  await page.setInputFiles('#files', files);
  await page.click('button[type=submit]');
  await page.waitForFunction((n) => document.querySelectorAll('#results li').length === n, files.length, { timeout: 15000 });
  const lines = await page.$$eval('#results li', (lis) => lis.map((l) => ({ class: l.className, text: l.textContent })));
  fs.mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: path.join(artifacts, 'province-upload.png'), fullPage: true });
  if (problems.length) throw new Error(problems.join('; '));
  console.log(JSON.stringify(lines));
} catch (e) {
  console.error(`browser test failed: ${e.message}`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
