// Dev smoke check against a running preview (npx vite preview with BORA_URL/BORA_MOCK): drives pages like a
// person would and writes screenshots to $OUT (default /tmp). Usage: node dev/smoke.mjs <base> <script-name> [args]
import { chromium } from 'playwright-core';

const [base, name, ...args] = process.argv.slice(2);
const OUT = process.env.OUT ?? '/tmp';
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});
const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
page.on('console', (m) => (m.type() === 'error' || m.type() === 'warning') && console.log(`console.${m.type()}: ${m.text()}`));
page.on('pageerror', (e) => console.log(`pageerror: ${e.message}`));
page.on('dialog', (d) => {
  console.log(`DIALOG ${d.type()}: ${d.message()}`);
  d.accept();
});
const shot = (f) => page.screenshot({ path: `${OUT}/${f}` });
try {
  const scripts = {
    async task([exec, taskName]) {
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('body[data-graph-ready="1"]');
      await page.click(`[data-testid="node-${taskName}"]`);
      await page.waitForSelector('[data-testid=task-panel] [data-testid=task-published]');
      await page.waitForTimeout(500);
      console.log('url', page.url());
      await shot(`task-${taskName}.png`);
    },
    async perf([exec]) {
      const t0 = Date.now();
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('[data-testid=execution-state]');
      const tHead = Date.now() - t0;
      await page.waitForSelector('[data-testid=task-row]');
      const tRows = Date.now() - t0;
      await page.waitForSelector('body[data-graph-ready="1"]', { timeout: 30000 });
      const tGraph = Date.now() - t0;
      const mark = await page.evaluate(() => performance.getEntriesByName('bora:graph-rendered').map((e) => Math.round(e.startTime)));
      console.log(JSON.stringify({ tHead, tRows, tGraph, mark, rows: await page.locator('[data-testid=task-row]').count(), nodes: await page.locator('g.node').count(), streamEvents: await page.evaluate(() => document.body.dataset.streamEvents) }));
      // Interactivity: a click on a node opens the panel quickly.
      const t1 = Date.now();
      await page.locator('g.node.kind-task').first().click();
      await page.waitForSelector('[data-testid=task-panel]');
      console.log('panel after', Date.now() - t1, 'ms');
      await shot('perf.png');
    },
    async live([exec]) {
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('body[data-graph-ready="1"]');
      for (let i = 0; i < 12; i++) {
        const st = await page.evaluate(() => ({
          exec: document.querySelector('[data-testid=execution-state]')?.textContent,
          nodes: Array.from(document.querySelectorAll('g.node.kind-task')).map((g) => `${g.getAttribute('data-testid')}=${g.getAttribute('data-state')}`).join(' '),
          events: document.body.dataset.streamEvents,
        }));
        console.log(JSON.stringify(st));
        if (i === 2) await shot('live.png');
        await page.waitForTimeout(1000);
      }
      await shot('live-end.png');
    },
  };
  await scripts[name](args);
} finally {
  await browser.close();
}
