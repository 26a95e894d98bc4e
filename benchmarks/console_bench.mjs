// Web console figures (issue 18), in Debian's headless Chromium (playwright-core) against a real
// `bora serve --in-memory`:
//   1. the execution page of a 1,000-task execution and of a 100,000-item with-items: time from
//      navigation start to the task table shown, to the graph drawn ('bora:graph-rendered'), and the
//      main thread's longest task and total blocking time (long tasks over 50 ms) until then; then how
//      long a click on a task takes to open its panel (is the page interactive?);
//   2. how long a state change takes to show on the page: an action is completed through the REST
//      API (from the page, on the page's clock) and a MutationObserver sees the node's progress text
//      change; measured from the completion's answer (the orchestrator applied it) and from its send.
// Prints numbers only; no thresholds. Usage (after `make build`):
//   node benchmarks/console_bench.mjs [build/cli/bora] [--runs N] [--changes N]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = createRequire(path.join(repo, 'ui', 'package.json'))('playwright-core');
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const BORA = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a)) ?? path.join(repo, 'build/cli/bora');
const RUNS = opt('--runs', 5);
const CHANGES = opt('--changes', 40);

function chains(n, length) {  // start, then n chains of `length` tasks: 1 + n * length tasks
  let y = "version: '2.0'\nthousand:\n  tasks:\n    start:\n      action: std.noop\n      on-success: [";
  y += Array.from({ length: n }, (_, c) => `c${c}_0`).join(', ') + ']\n';
  for (let c = 0; c < n; ++c) {
    for (let i = 0; i < length; ++i) {
      y += `    c${c}_${i}:\n      action: std.noop\n`;
      if (i + 1 < length) y += `      on-success: [c${c}_${i + 1}]\n`;
    }
  }
  return y;
}

const ITEMS = `version: '2.0'
items_100k:
  tasks:
    each:
      with-items: x in <% range(0, 100000) %>
      action: std.noop
items_async:
  input: [n]
  tasks:
    each:
      with-items: x in <% range(0, $.n) %>
      concurrency: 1
      action: std.async_noop
`;

async function startServer() {
  const server = spawn(BORA, ['serve', '--in-memory', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const base = await new Promise((resolve, reject) => {
    const onLine = (line) => {
      const m = line.match(/REST API on (http:\/\/[^\s]+)/);
      if (m) resolve(m[1]);
    };
    readline.createInterface({ input: server.stderr }).on('line', onLine);
    readline.createInterface({ input: server.stdout }).on('line', onLine);
    server.on('exit', (code) => reject(new Error(`bora serve exited (${code})`)));
  });
  return { server, base };
}

async function api(base, method, route, body, type = 'application/json') {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = type;
  }
  const r = await fetch(base + route, init);
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function runToEnd(base, workflow, input = {}) {
  const e = await api(base, 'POST', '/v2/executions', { workflow_name: workflow, input });
  // The execution's own stream says when it ended (no polling loop here).
  const r = await fetch(`${base}/v2/executions/${e.id}/stream`);
  const text = await r.text();
  if (!text.includes('event: end')) throw new Error(`${workflow} did not end: ${text.slice(-300)}`);
  return e.id;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (x) => x.toFixed(0).padStart(6);

async function pageLoad(browser, base, id, firstTask) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    window.__long = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__long.push(e); })
      .observe({ type: 'longtask', buffered: true });
  });
  await page.goto(`${base}/ui/executions/${id}`);
  await page.waitForSelector('[data-testid="task-row"]', { timeout: 60000 });
  const table = await page.evaluate(() => performance.now());
  await page.waitForFunction(() => document.body.dataset.graphReady === '1', null, { timeout: 60000 });
  const m = await page.evaluate(() => {
    const graph = performance.getEntriesByName('bora:graph-rendered')[0].startTime;
    const until = window.__long.filter((e) => e.startTime < graph);
    return {
      graph,
      longest: Math.max(0, ...until.map((e) => e.duration)),
      blocking: until.reduce((s, e) => s + Math.max(0, e.duration - 50), 0),
    };
  });
  // Interactive: a click on a task opens its panel.
  const t0 = await page.evaluate(() => performance.now());
  await page.getByTestId(`node-${firstTask}`).click();
  await page.getByTestId('task-panel').waitFor({ timeout: 60000 });
  const click = (await page.evaluate(() => performance.now())) - t0;
  await context.close();
  return { table, ...m, click };
}

async function changeLatency(browser, base) {
  const e = await api(base, 'POST', '/v2/executions', { workflow_name: 'items_async', input: { n: CHANGES + 1 } });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${base}/ui/executions/${e.id}`);
  await page.waitForFunction(() => document.body.dataset.graphReady === '1', null, { timeout: 60000 });
  await page.waitForSelector('[data-testid="progress-each"]', { timeout: 60000 });
  const task = (await api(base, 'GET', `/v2/executions/${e.id}/tasks`)).tasks[0].id;
  const fromApplied = [];
  const fromSent = [];
  for (let i = 0; i < CHANGES; ++i) {
    const running = await api(base, 'GET', `/v2/tasks/${task}/items?state=RUNNING`);
    const action = running.items[0].action_execution_id;
    // In the page: watch the node's progress text, complete the action, and time the text change.
    const r = await page.evaluate(async (aid) => {
      const el = document.querySelector('[data-testid="progress-each"]');
      const before = el.textContent;
      const changed = new Promise((resolve) => {
        const obs = new MutationObserver(() => {
          if (el.textContent !== before) { obs.disconnect(); resolve(performance.now()); }
        });
        obs.observe(el, { characterData: true, childList: true, subtree: true });
      });
      const sent = performance.now();
      const resp = await fetch(`/v2/action_executions/${aid}`, {
        method: 'PUT', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ state: 'SUCCESS', output: '1' }),
      });
      const applied = performance.now();
      if (!resp.ok) throw new Error(`PUT ${resp.status}`);
      const shown = await changed;
      return { sent, applied, shown };
    }, action);
    fromApplied.push(Math.max(0, r.shown - r.applied));
    fromSent.push(r.shown - r.sent);
  }
  await context.close();
  return { fromApplied, fromSent };
}

async function main() {
  const { server, base } = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.BORA_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await api(base, 'POST', '/v2/workflows', chains(27, 37), 'text/plain');
    await api(base, 'POST', '/v2/workflows', ITEMS, 'text/plain');
    console.log(`console_bench: ${os.cpus().length} cores, ${RUNS} page loads each, ${CHANGES} changes`);
    const cases = [
      ['1,000 tasks', await runToEnd(base, 'thousand'), 'start'],
      ['100,000-item with-items', await runToEnd(base, 'items_100k'), 'each'],
    ];
    console.log('execution page (ms, median of runs [max])  table shown  graph drawn  longest task  blocking  click->panel');
    for (const [name, id, first] of cases) {
      const runs = [];
      for (let i = 0; i < RUNS; ++i) runs.push(await pageLoad(browser, base, id, first));
      const col = (k) => `${fmt(pct(runs.map((r) => r[k]), 50))} [${pct(runs.map((r) => r[k]), 100).toFixed(0)}]`;
      console.log(`  ${name.padEnd(25)} ${col('table')} ${col('graph')} ${col('longest')} ${col('blocking')} ${col('click')}`);
    }
    const lat = await changeLatency(browser, base);
    for (const [name, xs] of [['from the API answer', lat.fromApplied], ['from the request sent', lat.fromSent]]) {
      console.log(`state change shown ${name.padEnd(22)} (ms): p50 ${fmt(pct(xs, 50))}  p95 ${fmt(pct(xs, 95))}  max ${fmt(pct(xs, 100))}  (n=${xs.length})`);
    }
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
