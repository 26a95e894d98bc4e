// Dev smoke check against a running preview (npx vite preview with BORA_URL): drives pages like a
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
          progress: Array.from(document.querySelectorAll("[data-testid^=progress-]")).map((t) => t.textContent).join(" "),
          events: document.body.dataset.streamEvents,
        }));
        console.log(JSON.stringify(st));
        if (i === 2) await shot('live.png');
        await page.waitForTimeout(1000);
      }
      await shot('live-end.png');
    },
    async definition([wf]) {
      await page.goto(`${base}/ui/workflows/${wf}`);
      await page.waitForSelector('[data-testid=definition-editor]');
      await page.waitForSelector('body[data-graph-ready="1"]');
      const ed = page.locator('[data-testid=definition-editor]');
      const text = await ed.inputValue();
      // Break a task: an unknown key and a transition to a missing task.
      await ed.fill(text.replace('action: std.echo', 'action: std.echo\n      bogus_key: 1').replace('on-success: [merge]', 'on-success: [nowhere]'));
      await page.click('[data-testid=definition-validate]');
      await page.waitForSelector('[data-testid=validation-result]');
      console.log('validation:', await page.locator('[data-testid=validation-result]').textContent(), await page.locator('[data-testid=validation-errors]').textContent().catch(() => ''));
      console.log('error lines:', await page.locator('[data-testid^=error-line-]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid'))));
      await shot('definition.png');
    },
    async start([wf, values]) {
      await page.goto(`${base}/ui/start?workflow=${wf}`);
      await page.waitForSelector('[data-testid=start-submit]:not([disabled])');
      for (const kv of (values ?? '').split(';').filter(Boolean)) {
        const [k, v] = kv.split('=');
        await page.fill(`[data-testid=input-${k}]`, v);
      }
      await page.fill('[data-testid=start-description]', 'started from the console <b>bold?</b>');
      await shot('start.png');
      await page.click('[data-testid=start-submit]');
      await page.waitForSelector('[data-testid=execution-state]');
      console.log('navigated to', page.url());
      await page.waitForSelector('body[data-graph-ready="1"]');
      await page.waitForTimeout(1500);
      console.log('state', await page.locator('[data-testid=execution-state]').textContent());
      await shot('started.png');
    },
    async pause([wf]) {
      await page.goto(`${base}/ui/start?workflow=${wf}`);
      await page.waitForSelector('[data-testid=start-submit]:not([disabled])');
      await page.click('[data-testid=start-submit]');
      await page.waitForSelector('[data-testid=action-pause]:not([disabled])');
      await page.click('[data-testid=action-pause]');
      await page.waitForSelector('[data-testid=execution-state]:text-is("PAUSED")');
      console.log('paused; resume enabled:', await page.locator('[data-testid=action-resume]').isEnabled(), 'pause enabled:', await page.locator('[data-testid=action-pause]').isEnabled());
      await shot('paused.png');
      await page.click('[data-testid=action-resume]');
      await page.waitForSelector('[data-testid=execution-state]:text-is("RUNNING")');
      console.log('resumed');
      await page.click('[data-testid=action-cancel]');
      await page.waitForSelector('[data-testid=execution-state]:text-is("CANCELLED")', { timeout: 10000 });
      console.log('cancelled; cancel enabled:', await page.locator('[data-testid=action-cancel]').isEnabled());
    },
    async huge([exec]) {
      // A with-items task with very many items: the panel opens at once, the result loads only when asked.
      const t0 = Date.now();
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('[data-testid=task-row]');
      console.log('rows after', Date.now() - t0, 'ms');
      await page.waitForSelector('body[data-graph-ready="1"]');
      console.log('graph after', Date.now() - t0, 'ms', 'progress', await page.locator('[data-testid^=progress-]').allTextContents());
      const t1 = Date.now();
      await page.click('[data-testid=node-fan]');
      await page.waitForSelector('[data-testid=item-row]');
      console.log('panel + items after', Date.now() - t1, 'ms; result present?', await page.locator('[data-testid=task-result]').count());
      await shot('huge-panel.png');
      const t2 = Date.now();
      await page.click('[data-testid=section-result] summary');
      await page.waitForSelector('[data-testid=task-result]', { timeout: 30000 });
      console.log('result after', Date.now() - t2, 'ms');
      await page.fill('[data-testid=task-result] .json-search', '99999');
      await page.waitForTimeout(1000);
      await page.click('[data-testid=items-next]');
      await page.waitForTimeout(500);
      await shot('huge-result.png');
    },
    async skip([exec, task]) {
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('body[data-graph-ready="1"]');
      await page.click(`[data-testid=node-${task}]`);
      await page.waitForSelector('[data-testid=action-skip]:not([disabled])');
      console.log('rerun enabled', await page.locator('[data-testid=action-rerun]').isEnabled());
      await shot('skip-before.png');
      await page.click('[data-testid=action-skip]');
      await page.waitForSelector(`[data-testid=node-${task}][data-state=SKIPPED]`, { timeout: 10000 });
      await page.waitForTimeout(1500);
      console.log('exec state', await page.locator('[data-testid=execution-state]').textContent(), 'error box', await page.locator('[data-testid=error]').allTextContents());
      await shot('skip-after.png');
    },
    async sub([exec, task]) {
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector(`[data-testid=sublink-${task}]`);
      await page.click(`[data-testid=sublink-${task}]`);
      await page.waitForSelector('[data-testid=parent-link]');
      console.log('sub page', page.url());
      await page.waitForSelector('body[data-graph-ready="1"]');
      await shot('sub.png');
      await page.click('[data-testid=parent-link]');
      await page.waitForSelector('[data-testid=task-panel] [data-testid=sub-execution-link]');
      console.log('back at parent with panel', page.url());
      await shot('sub-parent.png');
    },
    async livebig([exec]) {
      // A big execution while it runs: states change in place, clicks stay quick.
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('body[data-graph-ready="1"]', { timeout: 30000 });
      for (let i = 0; i < 6; i++) {
        const t = Date.now();
        const n = await page.evaluate(() => {
          const c = {};
          for (const g of document.querySelectorAll('g.node.kind-task')) c[g.getAttribute('data-state')] = (c[g.getAttribute('data-state')] ?? 0) + 1;
          return { states: c, events: document.body.dataset.streamEvents, marks: performance.getEntriesByName('bora:graph-rendered').length };
        });
        const rows = await page.locator('[data-testid=task-row]').count();
        await page.locator('[data-testid=graph-fit]').click();
        console.log(JSON.stringify({ ...n, rows, evalAndClickMs: Date.now() - t }));
        if (i === 3) await shot('livebig.png');
        await page.waitForTimeout(1500);
      }
    },
    async rerun([exec, task]) {
      await page.goto(`${base}/ui/executions/${exec}`);
      await page.waitForSelector('body[data-graph-ready="1"]');
      console.log('progress', await page.locator(`[data-testid=progress-${task}]`).textContent());
      await page.click(`[data-testid=node-${task}]`);
      await page.waitForSelector('[data-testid=action-rerun]:not([disabled])');
      await page.waitForSelector('[data-testid=item-row]');
      await shot('rerun-before.png');
      const before = Number(await page.evaluate(() => document.body.dataset.streamEvents));
      await page.click('[data-testid=action-rerun]');
      await page.waitForSelector(`[data-testid=node-${task}][data-state=RUNNING]`, { timeout: 10000 });
      console.log('rerun → RUNNING; exec', await page.locator('[data-testid=execution-state]').textContent(), 'events', before, '→', await page.evaluate(() => document.body.dataset.streamEvents));
      await shot('rerun-after.png');
    },
    async list() {
      await page.goto(`${base}/ui/`);
      await page.waitForSelector('[data-testid=execution-row]');
      console.log('rows', await page.locator('[data-testid=execution-row]').count(), 'SUCCESS count', await page.locator('[data-testid=count-SUCCESS] .count-n').textContent());
      await page.click('[data-testid=count-ERROR]');
      await page.waitForURL(/state=ERROR/);
      await page.waitForTimeout(600);
      console.log('url', page.url(), 'states', await page.locator('[data-testid=execution-row]').evaluateAll((r) => r.map((x) => x.getAttribute('data-state')).join(',')));
      await page.click('[data-testid=count-ERROR]');
      await page.fill('[data-testid=filter-search]', 'big');
      await page.click('[data-testid=filter-apply]');
      await page.waitForURL(/q=big/);
      await page.waitForTimeout(600);
      console.log('url', page.url(), 'workflows', await page.locator('[data-testid=execution-row] td:nth-child(2)').allTextContents());
      await page.goBack();
      await page.waitForTimeout(600);
      console.log('back to', page.url(), 'rows', await page.locator('[data-testid=execution-row]').count());
      await shot('list.png');
    },
    async page([path, file, wait]) {
      await page.goto(`${base}${path}`);
      if (wait) await page.waitForSelector(wait);
      await page.waitForTimeout(800);
      await shot(file);
    },
    async auth([token]) {
      await page.goto(`${base}/ui/executions`);
      await page.waitForSelector('[data-testid=token-input]');
      await shot('auth.png');
      await page.fill('[data-testid=token-input]', token);
      await page.click('[data-testid=token-save]');
      await page.waitForSelector('[data-testid=execution-row]');
      console.log('rows after token:', await page.locator('[data-testid=execution-row]').count(), 'stored:', await page.evaluate(() => sessionStorage.getItem('bora.token')));
    },
  };
  await scripts[name](args);
} finally {
  await browser.close();
}
