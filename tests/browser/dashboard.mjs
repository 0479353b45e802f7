// A leader signs in and reads the dashboard in Debian's headless Chromium, as a person would:
// types the username and password into the sign-in form, opens the dashboard, changes the period
// and the chart's step in the filter form, and checks the chart is drawn. Run by tests/api/staff.rs:
//
//   node tests/browser/dashboard.mjs <base URL> <username> <password> <expected period label>
//
// It fails on any Content-Security-Policy violation, console error or request to another origin,
// and saves screenshots under artifacts/. It exits non-zero with a message on the first failure.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.resolve(here, '..', '..', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function fail(message) {
  console.error(`browser test failed: ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}

const [base, username, password, periodLabel] = process.argv.slice(2);
if (!base || !username || !password || !periodLabel) {
  fail('usage: node dashboard.mjs <base URL> <username> <password> <expected period label>');
}
if (!fs.existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath}: install Debian's package (apt-get install -y chromium)`);
fs.mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'vi-VN' });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(base).origin;
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:')) problems.push(`request to another origin: ${u}`);
  });

  // anonymous: the dashboard sends us to the sign-in form
  await page.goto(`${base}/dashboard`);
  check(new URL(page.url()).pathname === '/login', `the dashboard did not ask to sign in (at ${page.url()})`);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await Promise.all([page.waitForURL(/\/dashboard/), page.getByRole('button', { name: 'Đăng nhập' }).click()]);

  // the dashboard, with figures in Vietnamese format and the chart drawn
  await page.getByRole('heading', { level: 1 }).waitFor();
  const overall = (await page.locator('#kpi-overall .value').textContent()).trim();
  check(/^\d{1,3},\d{2}%$/.test(overall), `overall satisfaction is not a Vietnamese percentage: "${overall}"`);
  check(await page.locator('#trend-chart svg path.line-overall').count() === 1, 'the trend chart has no line');
  check(await page.locator('#elements-chart svg rect.bar-e').count() >= 1, 'the elements chart has no bar');
  await page.screenshot({ path: path.join(artifacts, 'staff-dashboard-signed-in.png'), fullPage: true });

  // change the filters: another period and the chart by quarter
  await page.locator('#period').selectOption({ label: periodLabel });
  await page.locator('#trend').selectOption('quarter');
  await Promise.all([page.waitForURL(/trend=quarter/), page.getByRole('button', { name: 'Xem' }).click()]);
  const title = (await page.locator('#period-title').textContent()).trim();
  check(title === periodLabel, `the period heading says "${title}", not "${periodLabel}"`);
  const labels = await page.locator('#trend-chart svg text').allTextContents();
  check(labels.some((t) => /^Q\d\/\d{4}$/.test(t)), `the chart is not by quarter: ${labels.join(' | ')}`);
  const points = await page.locator('#trend-chart svg circle.dot-overall').count();
  check(points >= 1, 'the quarterly chart has no point');
  await page.screenshot({ path: path.join(artifacts, 'staff-dashboard-filtered.png'), fullPage: true });

  // drill down from the first officer row
  const officerLink = page.locator('#by-officer + table a').first();
  if (await officerLink.count() > 0) {
    await Promise.all([page.waitForURL(/\/dashboard\/officers\//), officerLink.click()]);
    await page.locator('#tt01-band').waitFor();
    await page.screenshot({ path: path.join(artifacts, 'staff-officer-page.png'), fullPage: true });
  }

  check(problems.length === 0, problems.join('\n'));
  console.log(`dashboard ok: overall ${overall}, ${points} quarterly points; screenshots in ${artifacts}`);
} catch (e) {
  await browser.close();
  fail(e.message);
}
await browser.close();
