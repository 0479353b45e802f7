// The read-aloud button of the survey in Debian's headless Chromium. Run by tests/api/browser.rs:
//
//   node tests/browser/read-aloud.mjs <survey URL> <another survey URL> <a third>
//
// The browser's speech synthesis is observed, not replaced in the product: an init script puts
// a recording window.speechSynthesis (with the voices a phone would list) into the page before
// the survey's own script runs, so the test sees exactly which text the page asks to be spoken,
// in which voice. Without such a voice, and with JavaScript off, there must be no button.

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

const [url, urlNoVoice, urlNoJs] = process.argv.slice(2);
if (!url || !urlNoVoice || !urlNoJs) {
  console.error('usage: node read-aloud.mjs <survey URL> <survey URL> <survey URL>');
  process.exit(1);
}
fs.mkdirSync(artifacts, { recursive: true });

/** Records every utterance the page speaks; `voices` is what the phone lists. */
function recordingSpeech(voices) {
  window.__spoken = [];
  const list = voices.map((v) => ({ name: v[0], lang: v[1], localService: true, default: false, voiceURI: v[0] }));
  const synth = {
    speaking: false,
    pending: false,
    paused: false,
    getVoices: () => list.slice(),
    speak: (u) => window.__spoken.push({ text: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null }),
    cancel: () => {},
    pause: () => {},
    resume: () => {},
    addEventListener: () => {},
    removeEventListener: () => {},
  };
  Object.defineProperty(window, 'speechSynthesis', { value: synth, configurable: true });
  window.SpeechSynthesisUtterance = function SpeechSynthesisUtterance(text) { this.text = text; };
}

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run'],
});

async function context(javaScript, voices) {
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 }, javaScriptEnabled: javaScript, locale: 'vi-VN' });
  if (voices) await ctx.addInitScript(recordingSpeech, voices);
  const page = await ctx.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return { ctx, page, errors };
}

const spoken = (page) => page.evaluate(() => window.__spoken);

try {
  // a phone with an English and a Vietnamese voice
  {
    const { ctx, page, errors } = await context(true, [['Test English', 'en-US'], ['Test Tiếng Việt', 'vi-VN']]);
    await page.goto(url);
    const button = page.getByRole('button', { name: 'Nghe đọc' });
    check((await button.count()) === 1, `the first screen has ${await button.count()} read-aloud buttons`);
    const box = await button.boundingBox();
    check(box && box.height >= 44 && box.width >= 44, 'the read-aloud button is smaller than 44 px');
    await page.screenshot({ path: path.join(artifacts, 'survey-read-aloud-360x740.png') });
    await button.click();
    let said = await spoken(page);
    check(said.length === 1, `one tap spoke ${said.length} times`);
    check(said[0].text === 'Nhìn chung, Ông/Bà hài lòng thế nào với việc giải quyết hồ sơ hôm nay? Rất không hài lòng. Không hài lòng. Bình thường. Hài lòng. Rất hài lòng.',
      `the first screen read: ${said[0].text}`);
    check(said[0].voice === 'Test Tiếng Việt' && said[0].lang === 'vi-VN', `read in ${said[0].voice} (${said[0].lang})`);
    check(new URL(page.url()).search === '', 'the read-aloud button submitted the form');

    // the case screen: one button per question, each reading its own question and options
    await page.getByRole('button', { name: 'Hài lòng', exact: true }).click();
    await page.getByRole('heading', { name: 'Về hồ sơ của Ông/Bà' }).waitFor();
    const questions = await page.locator('main .q').count();
    check((await button.count()) === questions, `${await button.count()} buttons for ${questions} questions`);
    await page.locator('#q-TT01\\.I1').getByRole('button', { name: 'Nghe đọc' }).click();
    said = await spoken(page);
    check(said.length === 1, 'the new page kept an old utterance');
    check(/^Kết quả được trả so với thời hạn theo quy định .*\. Sớm hơn ngày hẹn\. Đúng ngày hẹn\. Trễ hẹn\.$/.test(said[0].text),
      `the case question read: ${said[0].text}`);
    // a screen without questions reads its heading and text
    await page.getByRole('button', { name: 'Gửi và tiếp tục' }).click();
    await page.getByRole('heading', { name: 'Xin thêm vài phút nữa?' }).waitFor();
    await button.click();
    said = await spoken(page);
    check(said[0].text.startsWith('Xin thêm vài phút nữa? Ông/Bà có thể đánh giá thêm 19 nội dung'), `the intro read: ${said[0].text}`);
    check(!/Bước \d/.test(said[0].text), 'the progress line was read as content');
    check(errors.length === 0, `page errors: ${errors.join(' | ')}`);
    await ctx.close();
    console.log('read aloud: present with a Vietnamese voice, reads each question and its options');
  }

  // a phone with an English voice only: nothing can read Vietnamese, so no button
  {
    const { ctx, page } = await context(true, [['Test English', 'en-US']]);
    await page.goto(urlNoVoice);
    await page.getByRole('heading', { name: /Nhìn chung/ }).waitFor();
    check((await page.locator('.speak').count()) === 0, 'a read-aloud button without a Vietnamese voice');
    // in English the English voice reads
    await page.goto(`${urlNoVoice}?lang=en`);
    await page.getByRole('button', { name: 'Read aloud' }).click();
    const said = await spoken(page);
    check(said[0].voice === 'Test English' && said[0].text.startsWith('Overall, how satisfied are you'), `English read: ${JSON.stringify(said[0])}`);
    await ctx.close();
  }

  // Chromium's own speech synthesis, headless: only a button if it really lists a voice
  {
    const { ctx, page } = await context(true, null);
    await page.goto(urlNoVoice);
    await page.waitForTimeout(500);
    const voices = await page.evaluate(() => (window.speechSynthesis ? window.speechSynthesis.getVoices() : [])
      .filter((v) => /^vi\b/i.test(v.lang)).length);
    const buttons = await page.locator('.speak').count();
    check(voices > 0 ? buttons === 1 : buttons === 0, `${buttons} buttons with ${voices} Vietnamese voices`);
    await ctx.close();
    console.log(`read aloud with Chromium's own voices: ${voices} Vietnamese voices, ${buttons} buttons`);
  }

  // JavaScript off: no button, and the page still works
  {
    const { ctx, page } = await context(false, null);
    await page.goto(urlNoJs);
    await page.getByRole('heading', { name: /Nhìn chung/ }).waitFor();
    check((await page.locator('.speak, button:has-text("Nghe đọc")').count()) === 0, 'a read-aloud button without JavaScript');
    await ctx.close();
    console.log('read aloud: absent without JavaScript');
  }
  console.log('browser read-aloud: 4 passed, 0 failed');
} catch (e) {
  await browser.close();
  console.error(`browser test failed: ${e.stack || e}`);
  process.exit(1);
}
await browser.close();
