// Dev-only stand-ins for Bora endpoints a given server binary may not have yet (BORA_MOCK=1 npx vite).
// Answers GET /v2/executions/counts, GET /v2/workflows/{id}/graph (a naive YAML reading good enough
// for the examples) and GET /v2/tasks/{id}/items from the real server's other endpoints.
// Never part of the build.

const COMMANDS = new Set(['fail', 'succeed', 'pause', 'noop']);

function parseGraph(name, yaml) {
  const lines = yaml.split('\n');
  const nodes = [];
  const edges = [];
  let tasksIndent = -1;
  let cur = null;
  let key = null;
  let type = 'direct';
  const ind = (l) => l.length - l.trimStart().length;
  const addTarget = (raw, kind, lineNo) => {
    let s = raw.trim().replace(/^-\s*/, '');
    if (!s) return;
    let cond = null;
    const m = /^([\w.-]+)\s*:\s*(<%.*%>)\s*$/.exec(s);
    if (m) {
      s = m[1];
      cond = m[2];
    }
    const target = s.split(/\s+/)[0];
    if (COMMANDS.has(target)) {
      const id = `${cur.id}>${kind}>${target}`;
      nodes.push({ id, kind: target, task: null, action: null, workflow: null, join: null, with_items: false, retry: false, line: lineNo });
      edges.push({ from: cur.id, to: id, kind, condition: cond });
    } else edges.push({ from: cur.id, to: target, kind, condition: cond });
  };
  lines.forEach((l, i) => {
    const t = l.trim();
    if (!t || t.startsWith('#')) return;
    const n = ind(l);
    if (/^type:\s*reverse/.test(t)) type = 'reverse';
    if (t === 'tasks:') {
      tasksIndent = n;
      return;
    }
    if (tasksIndent < 0) return;
    if (n <= tasksIndent) {
      tasksIndent = -1;
      cur = null;
      return;
    }
    if (n === tasksIndent + 2 && /^[\w.-]+:\s*$/.test(t)) {
      cur = { id: t.slice(0, -1), kind: 'task', task: t.slice(0, -1), action: null, workflow: null, join: null, with_items: false, retry: false, line: i + 1 };
      nodes.push(cur);
      key = null;
      return;
    }
    if (!cur) return;
    if (n === tasksIndent + 4) {
      const m = /^([\w-]+):\s*(.*)$/.exec(t);
      if (!m) return;
      key = m[1];
      const v = m[2];
      if (key === 'action') cur.action = v.split(/\s+/)[0];
      else if (key === 'workflow') cur.workflow = v.split(/\s+/)[0];
      else if (key === 'join') cur.join = /^\d+$/.test(v) ? Number(v) : v;
      else if (key === 'with-items') cur.with_items = true;
      else if (key === 'retry') cur.retry = true;
      else if (['on-success', 'on-error', 'on-complete', 'on-skip', 'requires'].includes(key) && v) {
        const list = v.startsWith('[') ? v.slice(1, -1).split(',') : [v];
        for (const x of list) {
          if (key === 'requires') edges.push({ from: x.trim(), to: cur.id, kind: 'requires', condition: null });
          else addTarget(x, key, i + 1);
        }
      }
      return;
    }
    if (n > tasksIndent + 4 && t.startsWith('-') && key) {
      if (key === 'requires') edges.push({ from: t.slice(1).trim(), to: cur.id, kind: 'requires', condition: null });
      else if (key.startsWith('on-')) addTarget(t, key, i + 1);
    }
  });
  if (nodes.some((x) => x.kind === 'task') && edges.every((e) => e.kind === 'requires') && edges.length) type = 'reverse';
  return { workflow: name, namespace: '', type, nodes, edges };
}

export function mockPlugin(target) {
  const fetchJson = async (path, headers) => {
    const r = await fetch(target + path, { headers });
    return { status: r.status, body: await r.json() };
  };
  return {
    name: 'bora-dev-mock',
    configureServer(server) {
      server.middlewares.use(middleware);
    },
    configurePreviewServer(server) {
      server.middlewares.use(middleware);
    },
  };
  async function middleware(req, res, next) {
      {
        const url = new URL(req.url, 'http://x');
        const send = (status, body) => {
          res.statusCode = status;
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify(body));
        };
        const h = req.headers.authorization ? { authorization: req.headers.authorization } : {};
        try {
          if (req.method === 'GET' && url.pathname === '/v2/executions/counts') {
            // Skip when the real server has it.
            const probe = await fetch(target + req.url, { headers: h });
            if (probe.status !== 404) {
              res.statusCode = probe.status;
              res.setHeader('Content-Type', 'application/json');
              return res.end(await probe.text());
            }
            const q = new URLSearchParams(url.search);
            q.set('limit', '1000');
            const r = await fetchJson('/v2/executions?' + q, h);
            if (r.status !== 200) return send(r.status, r.body);
            const counts = { RUNNING: 0, SUCCESS: 0, ERROR: 0, PAUSED: 0, CANCELLED: 0, IDLE: 0 };
            for (const e of r.body.executions) counts[e.state] = (counts[e.state] ?? 0) + 1;
            return send(200, { counts, total: r.body.executions.length });
          }
          let m = /^\/v2\/workflows\/([^/]+)\/graph$/.exec(url.pathname);
          if (req.method === 'GET' && m) {
            const probe = await fetch(target + req.url, { headers: h });
            if (probe.status !== 404) {
              res.statusCode = probe.status;
              res.setHeader('Content-Type', 'application/json');
              return res.end(await probe.text());
            }
            const r = await fetchJson('/v2/workflows/' + m[1], h);
            if (r.status !== 200) return send(r.status, r.body);
            return send(200, parseGraph(r.body.name, r.body.definition));
          }
          m = /^\/v2\/tasks\/([^/]+)\/items$/.exec(url.pathname);
          if (req.method === 'GET' && m) {
            const probe = await fetch(target + req.url, { headers: h });
            if (probe.status !== 404) {
              res.statusCode = probe.status;
              res.setHeader('Content-Type', 'application/json');
              return res.end(await probe.text());
            }
            const r = await fetchJson(`/v2/tasks/${m[1]}/action_executions`, h);
            if (r.status !== 200) return send(r.status, r.body);
            let items = r.body.action_executions.map((a, i) => ({
              index: i, action_execution_id: a.id, name: a.name, state: a.state, state_info: a.state_info,
              accepted: a.accepted, attempt: 0, is_workflow: false, created_at: a.created_at, updated_at: a.updated_at,
            }));
            const st = url.searchParams.get('state');
            if (st) items = items.filter((x) => x.state === st);
            const off = Number(url.searchParams.get('offset') ?? 0);
            const lim = Number(url.searchParams.get('limit') ?? 100);
            return send(200, { total: items.length, items: items.slice(off, off + lim) });
          }
        } catch (e) {
          return send(502, { faultstring: 'dev mock: ' + e.message });
        }
        next();
      }
  }
}

export { parseGraph };
