// Answers the resident's survey end to end in Debian's headless Chromium, once with JavaScript
// and once without, by clicking and typing as a resident would. Run by tests/api/browser.rs:
//
//   node tests/browser/survey.mjs <survey URL for the JavaScript run> <survey URL for the run without>
//
// It checks what a resident would notice (the screens, the one-tap first screen, touch targets,
// no sideways scrolling at 360 px and at 200% zoom, nothing loaded from another origin, no CSP
// violation, axe-core's WCAG 2.1 AA rules) and saves screenshots under artifacts/. It exits
// non-zero with a message on the first failure.

import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = path.resolve(here, '..', '..', 'artifacts');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

function fail(message) {
  console.error(`browser test failed: ${message}`);
  process.exit(1);
}
function check(condition, message) {
  if (!condition) throw new Error(message);
}

const [jsUrl, noJsUrl] = process.argv.slice(2);
if (!jsUrl || !noJsUrl) fail('usage: node survey.mjs <survey URL with JavaScript> <survey URL without>');
if (!fs.existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath}: install Debian's package (apt-get install -y chromium)`);
fs.mkdirSync(artifacts, { recursive: true });

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

/// Every control a finger must hit is at least 44 CSS px tall and wide enough.
async function checkTouchTargets(page, where) {
  const small = await page.$$eval('button, a, label.opt, textarea', (els) => els
    .filter((e) => e.offsetParent !== null)
    .map((e) => ({ text: (e.textContent || e.name || '').trim().slice(0, 40), box: e.getBoundingClientRect() }))
    .filter((e) => e.box.height < 44 || e.box.width < 44)
    .map((e) => `${e.text} (${Math.round(e.box.width)}x${Math.round(e.box.height)})`));
  check(small.length === 0, `${where}: touch targets under 44 px: ${small.join(', ')}`);
}

/// Nothing scrolls sideways at this width.
async function checkNoSideScroll(page, where) {
  const { scroll, width } = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth, width: window.innerWidth,
  }));
  check(scroll <= width, `${where}: the page is ${scroll} px wide in a ${width} px window`);
}

/// axe-core's WCAG 2.0/2.1 A and AA rules (contrast, labels, names, structure).
async function checkAxe(page, where) {
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
  check(problems.length === 0, `${where}: accessibility violations:\n  ${problems.join('\n  ')}`);
}

async function survey(url, javaScript) {
  const label = javaScript ? 'js' : 'nojs';
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 }, javaScriptEnabled: javaScript, locale: 'vi-VN',
  });
  const page = await context.newPage();
  const origin = new URL(url).origin;
  const foreign = [];
  const consoleErrors = [];
  const firstScreen = [];
  let loadingFirstScreen = true;
  page.on('request', (r) => {
    if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) foreign.push(r.url());
    if (loadingFirstScreen) firstScreen.push(r);
  });
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  // the first screen: one question, five large choices
  const res = await page.goto(url, { waitUntil: 'load' });
  check(res.status() === 200, `first screen answered ${res.status()}`);
  loadingFirstScreen = false;
  let transferred = 0;
  for (const r of firstScreen) {
    const sizes = await r.sizes();
    transferred += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  check(transferred < 30 * 1024, `the first screen transferred ${transferred} bytes`);
  check((await page.locator('html').getAttribute('lang')) === 'vi', 'the first screen is not in Vietnamese');
  const faces = page.locator('form button[name="CASE.OVERALL"]');
  check((await faces.count()) === 5, 'the first screen does not have five choices');
  await page.getByRole('heading', { name: 'Nhìn chung, Ông/Bà hài lòng thế nào' }).waitFor();
  await page.screenshot({ path: path.join(artifacts, `survey-first-screen-${label}-360x740.png`) });
  await checkTouchTargets(page, 'first screen');
  await checkNoSideScroll(page, 'first screen at 360 px');
  // 200% zoom of a 360 px phone is a 180 px wide layout
  await page.setViewportSize({ width: 180, height: 370 });
  await checkNoSideScroll(page, 'first screen at 200% zoom');
  await page.setViewportSize({ width: 360, height: 740 });
  if (javaScript) await checkAxe(page, 'first screen');

  if (javaScript) {
    await page.getByRole('button', { name: 'Hài lòng', exact: true }).click();
  } else {
    // keyboard only: Tab to "Rất hài lòng" and press Enter
    let found = false;
    for (let i = 0; i < 20 && !found; i++) {
      await page.keyboard.press('Tab');
      found = (await page.evaluate(() => document.activeElement && document.activeElement.textContent.trim())) === 'Rất hài lòng';
    }
    check(found, 'the choice "Rất hài lòng" cannot be reached with the keyboard');
    await page.keyboard.press('Enter');
  }

  // the case screen
  await page.getByRole('heading', { name: 'Về hồ sơ của Ông/Bà' }).waitFor();
  check(/step=CASE/.test(page.url()), `after the first tap the page is ${page.url()}`);
  check(await page.getByText('Bước 2/10').isVisible(), 'progress is not shown');
  await page.getByRole('group', { name: /Kết quả được trả/ }).getByLabel('Đúng ngày hẹn').check();
  await page.getByRole('group', { name: /nhũng nhiễu/ }).getByLabel('Không', { exact: true }).check();
  await page.screenshot({ path: path.join(artifacts, `survey-case-${label}-360x740.png`), fullPage: true });
  await checkTouchTargets(page, 'case screen');
  if (javaScript) await checkAxe(page, 'case screen');
  await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();

  // the invitation to the SIPAS part
  await page.getByRole('heading', { name: 'Xin thêm vài phút nữa?' }).waitFor();
  if (javaScript) {
    await checkAxe(page, 'SIPAS invitation');
    await page.getByRole('link', { name: 'Bỏ qua phần này' }).click();
  } else {
    await page.getByRole('link', { name: 'Trả lời tiếp' }).click();
    await page.getByRole('heading', { name: 'Tiếp cận dịch vụ hành chính công' }).waitFor();
    // on a phone the statements come one at a time: the second shows once the first is passed
    const sign = page.getByRole('group', { name: /biển hiệu/ });
    const pass = page.getByRole('group', { name: /theo nhiều hình thức/ }).getByLabel('Bỏ qua câu này');
    if (await pass.count()) {
      check(!(await sign.isVisible()), 'the second statement shows before the first is answered or passed');
      await pass.check();
    }
    await sign.getByLabel('Rất hài lòng').check();
    await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();
    for (const heading of ['Thủ tục hành chính', 'Công chức trực tiếp giải quyết công việc', 'Kết quả cung ứng dịch vụ hành chính công']) {
      await page.getByRole('heading', { name: heading, exact: true }).waitFor();
      await page.getByRole('link', { name: 'Bỏ qua trang này' }).click();
    }
    await page.getByRole('heading', { name: 'Tiếp nhận, xử lý phản ánh, kiến nghị của người dân' }).waitFor();
    check(await page.locator('input[name="E5.1"]').count() === 0, 'the gated statements show before the gate');
    await page.getByLabel('Đã từng / Có').check();
    await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();
    await page.locator('input[name="E5.1"]').first().waitFor();
    await page.getByRole('group', { name: /bố trí hình thức/ }).getByLabel('Bình thường').check();
    // the large-text switch is a plain link and keeps the screen
    await page.getByRole('link', { name: 'Chữ to' }).click();
    check((await page.locator('html').getAttribute('class')) === 'big', 'the large-text switch did nothing');
    await page.screenshot({ path: path.join(artifacts, `survey-large-text-${label}-360x740.png`) });
    await checkNoSideScroll(page, 'large text at 360 px');
    await page.getByRole('group', { name: /bố trí hình thức/ }).getByLabel('Bình thường').check();
    await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();
  }

  // expectations and the comment
  await page.getByRole('heading', { name: 'Mong đợi và ý kiến' }).waitFor();
  const exp = page.getByRole('group', { name: /ưu tiên cải thiện/ });
  await exp.getByLabel(/trụ sở, trang thiết bị/).check();
  await exp.getByLabel(/chuyển đổi số/).check();
  await exp.getByLabel(/dịch vụ hành chính công \(việc/).check();
  const fourth = exp.getByLabel(/thái độ phục vụ/);
  if (javaScript) {
    check(await fourth.isDisabled(), 'with JavaScript, a fourth choice should be blocked');
  } else {
    check(await fourth.isEnabled(), 'without JavaScript every box stays enabled');
  }
  const comment = page.getByLabel(/Ý kiến khác/);
  await comment.fill('Cán bộ hướng dẫn tận tình.');
  const warning = await page.locator('#h-COMMENT').textContent();
  check(/đừng ghi họ tên, số điện thoại/.test(warning), `the comment has no warning: ${warning}`);
  const counter = await page.locator('.counter').count();
  check(javaScript ? counter === 1 : counter === 0, `the character counter ${javaScript ? 'is missing' : 'ran without JavaScript'}`);
  await page.screenshot({ path: path.join(artifacts, `survey-expectations-${label}-360x740.png`), fullPage: true });
  await checkTouchTargets(page, 'expectations screen');
  if (javaScript) await checkAxe(page, 'expectations screen');
  if (javaScript) {
    await page.getByRole('button', { name: 'Kết thúc' }).click();
  } else {
    await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();
    await page.getByRole('heading', { name: /Thông tin về Ông\/Bà/ }).waitFor();
    await page.getByRole('group', { name: 'Giới tính' }).getByLabel('Nữ').check();
    await page.getByRole('group', { name: 'Dân tộc' }).getByLabel('Tày').check();
    await page.getByRole('button', { name: 'Kết thúc' }).click();
  }

  await page.getByRole('heading', { name: 'Cảm ơn Ông/Bà!' }).waitFor();
  await page.screenshot({ path: path.join(artifacts, `survey-thanks-${label}-360x740.png`) });
  if (javaScript) await checkAxe(page, 'thank-you page');

  check(foreign.length === 0, `requests to another origin: ${foreign.join(', ')}`);
  check(consoleErrors.length === 0, `console errors (CSP violations among them): ${consoleErrors.join(' | ')}`);
  await context.close();
  console.log(`${label}: answered end to end; first screen ${transferred} bytes transferred`);
}

try {
  await survey(jsUrl, true);
  await survey(noJsUrl, false);
  console.log('browser survey: 2 passed, 0 failed');
} catch (e) {
  await browser.close();
  fail(e.stack || String(e));
}
await browser.close();
