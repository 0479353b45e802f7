// What the staff pages' browser scripts share: launching Debian's Chromium, failing with a
// message, watching a page for console errors and foreign requests, and screenshots (always under
// artifacts/; with UPDATE_SCREENSHOTS=1 also the committed ones in docs/screenshots/).

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifacts = path.resolve(here, '..', '..', 'artifacts');
export const screenshots = path.resolve(here, '..', '..', 'docs', 'screenshots');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function fail(message) {
  console.error(`browser test failed: ${message}`);
  process.exit(1);
}

export function check(condition, message) {
  if (!condition) throw new Error(message);
}

export async function launch(chromium) {
  if (!fs.existsSync(chromiumPath)) fail(`no Chromium at ${chromiumPath}: install Debian's package (apt-get install -y chromium)`);
  fs.mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

// Collects console errors, page errors and requests to another origin; check it is empty at the end.
export function watch(page, base) {
  const problems = [];
  const origin = new URL(base).origin;
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} from ${r.url()}`);
  });
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:')) problems.push(`request to another origin: ${u}`);
  });
  return problems;
}

// A full-page screenshot named `name`.png.
export async function shoot(page, name) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  if (process.env.UPDATE_SCREENSHOTS === '1') {
    fs.mkdirSync(screenshots, { recursive: true });
    fs.copyFileSync(file, path.join(screenshots, `${name}.png`));
  }
}

// Signs in through the login form and waits for the page the service sends the account to.
export async function signIn(page, base, username, password, landing) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await Promise.all([page.waitForURL(landing), page.getByRole('button', { name: 'Đăng nhập' }).click()]);
}
