// The web console in a real headless Chromium (Debian's), driven by playwright-core, against a real
// `bora serve` (embedded, in memory, with an auth token) started here. What it shows (issue 18):
// a workflow with a join, a with-items, a failing branch and a sub-workflow, started from the page's
// input form; the graph shows every task with its final state; updates arrive without a reload; pause
// and resume work from the page; a published <script> and an HTML description are shown as text;
// validation errors are marked at their line; triggers are listed. The page must log no error (a
// Content-Security-Policy violation is one). Screenshots go to $BORA_SCREENSHOTS.
//
// BORA_MODE=embedded (default: `bora serve --in-memory`) or distributed (`bora serve --kafka --redis` on
// the services of scripts/services.sh, BORA_KAFKA and BORA_REDIS, under a fresh topic/key prefix).
//
// Usage: BORA_BIN=build/cli/bora [BORA_MODE=distributed] node --test tests/browser/console_test.mjs
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { chromium } = createRequire(path.join(repo, 'ui', 'package.json'))('playwright-core');

const BORA = process.env.BORA_BIN ?? path.join(repo, 'build/cli/bora');
const CHROMIUM = process.env.BORA_CHROMIUM ?? '/usr/bin/chromium';
const MODE = process.env.BORA_MODE ?? 'embedded';
const SHOTS = path.join(process.env.BORA_SCREENSHOTS ?? path.join(repo, 'build/screenshots'), MODE);
const TOKEN = 'console-test-token';
const WAIT = 30000;  // the longest any expectation waits for the page (ms)

const WORKFLOWS = `version: '2.0'
console_demo:
  description: a join, a with-items, a failing branch and a sub-workflow
  input:
    - items: 4
    - note: hello
  tasks:
    start:
      action: std.echo output="<script>window.__xss = 1</script>"
      publish:
        html: <% task().result %>
      on-success: [each, gate, fails, child]
    each:
      with-items: x in <% range(0, $.items) %>
      action: std.echo output=<% $.x * 2 %>
      on-success: [join_all]
    gate:
      action: std.async_noop
      on-success: [join_all]
    child:
      workflow: console_child
      on-success: [join_all]
    join_all:
      join: all
      action: std.noop
    fails:
      action: std.fail
      on-error: [handle]
    handle:
      action: std.echo output=handled
console_child:
  tasks:
    inner:
      action: std.echo output=inner
broken:
  tasks:
    t1:
      action: std.fail
      on-success: [t2]
    t2:
      action: std.echo output=after
reverse_demo:
  type: reverse
  tasks:
    fetch:
      action: std.noop
    build:
      requires: [fetch]
      action: std.noop
`;

let server;    // the bora serve process
const serverLog = [];  // its last output lines, printed when a test fails
let base;      // http://127.0.0.1:PORT
let browser;
let tmp;

// The state an execution ends in, from its own stream (which closes once the execution is finished).
async function finalState(id) {
  const r = await fetch(`${base}/v2/executions/${id}/stream`, { headers: { 'X-Auth-Token': TOKEN } });
  const text = await r.text();
  const m = text.match(/event: end\ndata: (.*)\n/);
  if (!m) throw new Error(`execution ${id} did not end: ${text.slice(-300)}`);
  return JSON.parse(m[1]).state;
}

async function api(method, route, body, contentType = 'application/json') {
  const init = { method, headers: { 'X-Auth-Token': TOKEN } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = contentType;
  }
  const r = await fetch(base + route, init);
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${route}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bora-console-'));
  fs.mkdirSync(SHOTS, { recursive: true });
  const tokenFile = path.join(tmp, 'token');
  fs.writeFileSync(tokenFile, TOKEN);
  const args = ['serve', '--port', '0', '--auth-token-file', tokenFile];
  if (MODE === 'distributed') {
    const { BORA_KAFKA: kafka, BORA_REDIS: redis } = process.env;
    if (!kafka || !redis) throw new Error('distributed mode needs BORA_KAFKA and BORA_REDIS (scripts/services.sh start)');
    args.push('--kafka', kafka, '--redis', redis, '--partitions', '4',
              '--prefix', `ui${Math.random().toString(16).slice(2, 10)}.`);
  } else {
    args.push('--in-memory');
  }
  server = spawn(BORA, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // The server logs where it listens; read its output until it does (or it exits).
  base = await new Promise((resolve, reject) => {
    const lines = [];
    const onLine = (line) => {
      lines.push(line);
      serverLog.push(line);
      if (serverLog.length > 200) serverLog.shift();
      const m = line.match(/REST API on (http:\/\/[^\s]+)/);
      if (m) resolve(m[1]);
    };
    readline.createInterface({ input: server.stderr }).on('line', onLine);
    readline.createInterface({ input: server.stdout }).on('line', onLine);
    server.on('exit', (code) => reject(new Error(`bora serve exited (${code}):\n${lines.join('\n')}`)));
  });
  await api('POST', '/v2/workflows', WORKFLOWS, 'text/plain');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.on('exit', resolve));
    server.kill('SIGTERM');
    await exited;
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

// test(), and when it fails: a screenshot of every open page (FAILED-*.png), their logged errors and the
// server's last output lines, so a failure in CI says what the page and the server saw.
function browserTest(name, fn) {
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      for (const context of browser?.contexts() ?? []) {
        for (const [i, page] of context.pages().entries()) {
          const file = path.join(SHOTS, `FAILED-${name.slice(0, 40).replace(/\W+/g, '-')}-${i}.png`);
          await page.screenshot({ path: file }).catch(() => {});
          console.error(`page ${page.url()} (screenshot ${file}) logged: ${JSON.stringify(page.errors ?? [])}`);
        }
      }
      console.error(`bora serve's last lines:\n${serverLog.join('\n')}`);
      throw e;
    }
  });
}

// A page that records every error it logs (a CSP violation is logged as one) and any request that
// leaves this server.
async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('request', (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith('data:')) page.errors.push(`left the server: ${r.url()}`);
  });
  return page;
}

// Opens `url`, which asks for the token (the API answered 401: the browser logs those, so the errors
// seen so far are dropped), and gives it.
async function login(page, url) {
  const response = await page.goto(base + url);
  await page.getByTestId('token-input').fill(TOKEN);
  await page.getByTestId('token-save').click();
  page.errors = page.errors.filter((e) => !/status of 401/.test(e));
  return response;
}

const stateOf = (page, testid) => page.getByTestId(testid).getAttribute('data-state');
async function waitState(page, testid, state) {
  await page.waitForFunction(([id, s]) => document.querySelector(`[data-testid="${id}"]`)?.getAttribute('data-state') === s,
                             [testid, state], { timeout: WAIT });
}
async function waitText(page, testid, text) {
  await page.waitForFunction(([id, t]) => document.querySelector(`[data-testid="${id}"]`)?.textContent.trim() === t,
                             [testid, text], { timeout: WAIT });
}

browserTest('an execution started from the page runs live: graph, pause and resume, final states, no reload', async () => {
  const page = await newPage();
  const response = await login(page, '/ui/start?workflow=console_demo');
  const csp = response.headers()['content-security-policy'];
  assert.match(csp, /default-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);

  // The form comes from the workflow's input spec; an empty field takes the default it shows.
  await page.getByTestId('input-items').waitFor({ timeout: WAIT });
  assert.match(await page.getByTestId('input-note').getAttribute('placeholder'), /hello/);
  await page.getByTestId('input-items').fill('3');
  await page.getByTestId('start-submit').click();
  await page.waitForURL(/\/ui\/executions\/[0-9a-f-]{36}$/, { timeout: WAIT });
  const id = page.url().split('/').pop();
  assert.deepEqual(JSON.parse((await api('GET', `/v2/executions/${id}`)).input), { items: 3, note: 'hello' });

  // The graph: every task of the definition, edges drawn by kind.
  await page.waitForFunction(() => document.body.dataset.graphReady === '1', null, { timeout: WAIT });
  for (const t of ['start', 'each', 'gate', 'child', 'join_all', 'fails', 'handle']) {
    assert.equal(await page.getByTestId(`node-${t}`).count(), 1, `node ${t}`);
  }
  assert.equal(await page.getByTestId('edge-fails-handle').getAttribute('data-kind'), 'on-error');
  assert.equal(await page.getByTestId('edge-start-each').getAttribute('data-kind'), 'on-success');
  await waitState(page, 'node-each', 'SUCCESS');
  await waitText(page, 'progress-each', '3/3');
  await waitState(page, 'node-gate', 'RUNNING');
  // The join waits for the gate (Bora, as Mistral, keeps a join WAITING once a first branch arrived).
  assert.match(await stateOf(page, 'node-join_all'), /^(WAITING|NOT_RUN)$/);
  await page.screenshot({ path: path.join(SHOTS, 'execution-running.png') });

  // From here on nothing may reload the page.
  await page.evaluate(() => { window.__sameDocument = true; });
  const eventsBefore = Number(await page.evaluate(() => document.body.dataset.streamEvents ?? 0));

  await page.getByTestId('action-pause').click();
  await waitText(page, 'execution-state', 'PAUSED');
  assert.equal((await api('GET', `/v2/executions/${id}`)).state, 'PAUSED');
  await page.screenshot({ path: path.join(SHOTS, 'execution-paused.png') });
  await page.getByTestId('action-resume').click();
  await waitText(page, 'execution-state', 'RUNNING');
  assert.equal((await api('GET', `/v2/executions/${id}`)).state, 'RUNNING');

  // A change made elsewhere (the async action completed through the REST API) shows by itself.
  const running = await api('GET', `/v2/action_executions?state=RUNNING&workflow_name=console_demo`);
  const gate = running.action_executions.find((a) => a.task_name === 'gate');
  assert.ok(gate, 'the gate action is running');
  await api('PUT', `/v2/action_executions/${gate.id}`, { state: 'SUCCESS', output: '"opened"' });
  await waitText(page, 'execution-state', 'SUCCESS');
  const final = { start: 'SUCCESS', each: 'SUCCESS', gate: 'SUCCESS', child: 'SUCCESS',
                  join_all: 'SUCCESS', fails: 'ERROR', handle: 'SUCCESS' };
  for (const [t, s] of Object.entries(final)) await waitState(page, `node-${t}`, s);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was not reloaded');
  assert.ok(Number(await page.evaluate(() => document.body.dataset.streamEvents)) > eventsBefore);
  // The REST API agrees with what the page shows.
  const tasks = (await api('GET', `/v2/executions/${id}/tasks`)).tasks;
  for (const t of tasks) assert.equal(final[t.name], t.state, t.name);

  // The sub-workflow node opens its own execution.
  const href = await page.getByTestId('sublink-child').getAttribute('href');
  const childId = href.split('/').pop();
  assert.equal((await api('GET', `/v2/executions/${childId}`)).workflow_name, 'console_child');
  await page.screenshot({ path: path.join(SHOTS, 'execution-finished.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

browserTest('user data is shown as text: a published <script>, an HTML description', async () => {
  const started = await api('POST', '/v2/executions', {
    workflow_name: 'console_demo', input: { items: 1 },
    description: '<img src=x onerror="window.__xss2 = 1">',
  });
  const page = await newPage();
  await login(page, `/ui/executions/${started.id}`);
  await waitState(page, 'node-start', 'SUCCESS');
  await page.getByTestId('node-start').click();
  await page.waitForURL(/\/tasks\//, { timeout: WAIT });
  const published = page.getByTestId('task-published');
  await published.waitFor({ timeout: WAIT });
  await page.waitForFunction(() => document.querySelector('[data-testid="task-published"]')
    ?.textContent.includes('<script>window.__xss = 1</script>'), null, { timeout: WAIT });
  assert.equal(await published.locator('script').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  await page.screenshot({ path: path.join(SHOTS, 'task-published-script.png') });

  await page.goto(base + '/ui/executions');
  const row = page.locator(`[data-testid="execution-row"][data-id="${started.id}"]`);
  await row.waitFor({ timeout: WAIT });
  assert.match(await row.textContent(), /<img src=x onerror="window.__xss2 = 1">/);
  assert.equal(await row.locator('img').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss2), undefined);
  await page.screenshot({ path: path.join(SHOTS, 'executions.png') });
  // Filters: text search, counts by state follow them; the URL keeps them (a link to share).
  await page.getByTestId('filter-search').fill('xss2');
  await page.getByTestId('filter-apply').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="execution-row"]').length === 1,
                             null, { timeout: WAIT });
  assert.equal(await page.locator('[data-testid="execution-row"]').getAttribute('data-id'), started.id);
  assert.match(page.url(), /xss2/);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

browserTest('definitions: validation errors are marked at their line; triggers show the next fire time', async () => {
  await api('POST', '/v2/cron_triggers', {
    name: 'nightly', workflow_name: 'console_child', pattern: '0 3 * * *', workflow_input: {},
  });
  const page = await newPage();
  await login(page, '/ui/workflows/console_demo');
  const editor = page.getByTestId('definition-editor');
  await editor.waitFor({ timeout: WAIT });
  const text = await editor.inputValue();
  assert.match(text, /console_demo:/);
  // A transition to a task that does not exist, on line 14 of the document.
  const broken = text.replace('on-success: [each, gate, fails, child]',
                              'on-success: [each, gate, fails, child, nowhere]');
  assert.notEqual(broken, text);
  const line = broken.split('\n').findIndex((l) => l.includes('nowhere')) + 1;
  await editor.fill(broken);
  await page.getByTestId('definition-validate').click();
  await page.getByTestId(`error-line-${line}`).waitFor({ timeout: WAIT });
  assert.match(await page.getByTestId('validation-errors').textContent(), /nowhere/);
  await page.screenshot({ path: path.join(SHOTS, 'definition-error.png') });

  await page.goto(base + '/ui/triggers');
  const cron = page.getByTestId('cron-row').filter({ hasText: 'nightly' });
  await cron.waitFor({ timeout: WAIT });
  const next = (await api('GET', '/v2/cron_triggers/nightly')).next_execution_time;
  assert.ok(next);
  assert.match(await cron.textContent(), new RegExp(next.slice(0, 16)));
  await page.screenshot({ path: path.join(SHOTS, 'triggers.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

browserTest('operator actions from the task panel: rerun and skip a failed task; a reverse workflow', async () => {
  const failed = await api('POST', '/v2/executions', { workflow_name: 'broken' });
  const page = await newPage();
  page.on('dialog', (d) => d.accept());  // confirmations, if the page asks
  await login(page, `/ui/executions/${failed.id}`);
  await waitText(page, 'execution-state', 'ERROR');
  await waitState(page, 'node-t1', 'ERROR');
  await page.getByTestId('node-t1').click();
  await page.getByTestId('task-panel').waitFor({ timeout: WAIT });
  const t1 = page.url().split('/').pop();

  // Rerun: it fails again, so a second action execution and the execution back in ERROR.
  const [rerun] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/v2/tasks/${t1}`) && r.request().method() === 'PUT'),
    page.getByTestId('action-rerun').click(),
  ]);
  assert.equal(rerun.status(), 200);
  assert.equal(await finalState(failed.id), 'ERROR');
  assert.equal((await api('GET', `/v2/tasks/${t1}/items`)).total, 2, 'the rerun ran the action again');
  await waitState(page, 'node-t1', 'ERROR');

  await page.getByTestId('action-skip').click();
  await waitState(page, 'node-t1', 'SKIPPED');
  await waitState(page, 'node-t2', 'SUCCESS');
  await waitText(page, 'execution-state', 'SUCCESS');
  await page.screenshot({ path: path.join(SHOTS, 'task-skipped.png') });

  const rev = await api('POST', '/v2/executions', { workflow_name: 'reverse_demo', params: { task_name: 'build' } });
  await page.goto(base + `/ui/executions/${rev.id}`);
  await waitText(page, 'execution-state', 'SUCCESS');
  assert.equal(await page.getByTestId('edge-fetch-build').getAttribute('data-kind'), 'requires');
  await waitState(page, 'node-fetch', 'SUCCESS');
  await waitState(page, 'node-build', 'SUCCESS');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

browserTest('a task of an external action waits for a worker, visibly, until one takes it', async () => {
  const pool = `ui${Math.random().toString(16).slice(2, 8)}`;
  const action = `${pool}.shout`;
  const poll = (wait) => api('POST', '/v2/workers/poll', {
    worker: 'console-test', pool, wait, actions: [{ name: action, input: 'text' }],
  });
  await poll(0);  // declares the action; takes nothing
  await api('POST', '/v2/workflows',
            `version: '2.0'\n${pool}_wf:\n  tasks:\n    shout:\n      action: ${action} text=hi\n`,
            'text/plain');
  const started = await api('POST', '/v2/executions', { workflow_name: `${pool}_wf` });
  const page = await newPage();
  await login(page, `/ui/executions/${started.id}`);
  await waitState(page, 'node-shout', 'RUNNING');
  await page.getByTestId('node-shout').click();
  await page.waitForFunction((p) => /1 waiting for a worker/.test(
    document.querySelector('[data-testid="worker-pool-status"]')?.textContent ?? ''), pool, { timeout: WAIT });
  await page.screenshot({ path: path.join(SHOTS, 'task-waits-for-worker.png') });
  // A worker takes it and answers: the page follows without a reload.
  const { leases } = await poll(10);
  assert.equal(leases.length, 1);
  assert.deepEqual(leases[0].input, { text: 'hi' });
  await api('POST', `/v2/workers/leases/${leases[0].lease_id}/complete`, { state: 'SUCCESS', result: 'HI' });
  await waitState(page, 'node-shout', 'SUCCESS');
  await waitText(page, 'execution-state', 'SUCCESS');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
