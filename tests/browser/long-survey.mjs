// The long survey on a phone, in Debian's headless Chromium. Run by tests/api/browser.rs:
//
//   node tests/browser/long-survey.mjs <survey URL, first screen already answered>
//
// The resident ticks two statements of a SIPAS screen and leaves without pressing send (the
// page is left for another): what they ticked is kept. The Rust side checks what was stored.

import { chromium } from 'playwright-core';

const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
function check(condition, message) {
  if (!condition) throw new Error(message);
}
const [url] = process.argv.slice(2);
if (!url) {
  console.error('usage: node long-survey.mjs <survey URL>');
  process.exit(1);
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
  await page.goto(`${url}?step=E1`);
  await page.getByRole('heading', { name: 'Tiếp cận dịch vụ hành chính công', exact: true }).waitFor();
  const groups = page.locator('main fieldset.q');
  check((await groups.count()) >= 3, 'E1 has fewer than three statements');
  await groups.nth(0).getByLabel('Rất hài lòng').tap();
  await groups.nth(1).getByLabel('Bình thường').tap();
  // the resident leaves: another page takes the tab, nothing was sent with the form
  await page.goto('about:blank');
  // back on the same address: the two statements are recorded (the beacon may take a moment)
  let recorded = 0;
  for (let i = 0; i < 10 && recorded !== 2; i++) {
    await page.waitForTimeout(300);
    await page.goto(`${url}?step=E1`);
    recorded = await page.locator('main .answered').count();
  }
  check(recorded === 2, `${recorded} statements shown as recorded after leaving`);
  // sending the form itself sends no second copy
  let beacons = 0;
  page.on('request', (r) => { if (r.url().includes('/api/v1/responses/')) beacons++; });
  await groups.nth(2).getByLabel('Hài lòng', { exact: true }).tap();
  await page.getByRole('button', { name: 'Gửi và tiếp tục' }).tap();
  await page.getByRole('heading', { name: 'Thủ tục hành chính', exact: true }).waitFor();
  check(beacons === 0, `${beacons} extra requests when the form was sent`);
  check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
  await context.close();
  console.log('browser long survey: 1 passed, 0 failed');
} catch (e) {
  await browser.close();
  console.error(`browser test failed: ${e.stack || e}`);
  process.exit(1);
}
await browser.close();
