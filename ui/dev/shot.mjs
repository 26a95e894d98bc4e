// Dev helper: screenshot console pages with headless Chromium and report console errors.
//   node dev/shot.mjs http://127.0.0.1:4173/ui/executions out.png [waitForSelector] [width] [height]
import { chromium } from 'playwright-core';

const [url, out, wait, w = '1400', h = '900'] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: Number(w), height: Number(h) } });
  page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && console.log(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
  const t0 = Date.now();
  await page.goto(url);
  if (wait) await page.waitForSelector(wait, { timeout: 20000 });
  else await page.waitForTimeout(1500);
  console.log(`ready after ${Date.now() - t0} ms`);
  await page.waitForTimeout(300);
  await page.screenshot({ path: out });
} finally {
  await browser.close();
}
