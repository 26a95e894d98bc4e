import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, get, put, qs } from '../api';
import { ErrorBox, Link, StateBadge } from '../components/common';
import { JsonTree } from '../components/JsonTree';
import type { ActionExecution, Execution, Item, TaskRecord, TaskSummary, WorkersReply } from '../types';
import { FINISHED, duration } from '../util';

const HUGE = 1000; // items above which the result is fetched only when its section is opened
const ITEMS_PAGE = 100;
const LIGHT_FIELDS =
  'id,name,type,state,state_info,workflow_execution_id,runtime_context,published,created_at,started_at,finished_at,updated_at';

function ActionDetail(props: { id: string }) {
  const [a, setA] = useState<ActionExecution | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    get<ActionExecution>(`/v2/action_executions/${props.id}`).then(setA, (e) => setErr(errorText(e)));
  }, [props.id]);
  if (err) return <ErrorBox error={err} />;
  if (!a) return <div class="muted">Loading action execution…</div>;
  return (
    <div class="action-detail" data-testid="action-detail">
      <div class="row">
        <StateBadge state={a.state} /> <span class="mono small">{a.name}</span> <span class="mono muted small">{a.id}</span>
      </div>
      {a.state_info && <pre class="state-info">{a.state_info}</pre>}
      <h4>Input</h4>
      <JsonTree text={a.input} testid="action-input" />
      <h4>Output</h4>
      <JsonTree text={a.output} testid="action-output" />
    </div>
  );
}

/**
 * Where a running task of an external action stands: its pool's queue and the workers polling it
 * (GET /v2/workers, every 2 s while shown). A task no worker takes waits: this says so.
 */
function WorkerPoolStatus(props: { pool: string }) {
  const [reply, setReply] = useState<WorkersReply | null>(null);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const load = () =>
      get<WorkersReply>('/v2/workers').then(
        (r) => !stop && (setReply(r), setErr(null)),
        (e) => !stop && setErr(errorText(e)),
      );
    load();
    const timer = setInterval(() => document.visibilityState === 'visible' && load(), 2000);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [props.pool]);
  if (err) return <span class="muted">{err}</span>;
  if (!reply) return <span class="muted">…</span>;
  const pool = reply.pools.find((p) => p.pool === props.pool);
  const workers = reply.workers.filter((w) => w.pool === props.pool);
  return (
    <span data-testid="worker-pool-status">
      {workers.length === 0
        ? `no worker has polled pool ${props.pool}: the task waits for one`
        : `${workers.length} worker${workers.length === 1 ? '' : 's'} on pool ${props.pool} (last poll ${workers
            .map((w) => w.last_seen)
            .sort()
            .slice(-1)[0]})`}
      {pool ? ` · ${pool.queued} waiting for a worker · ${pool.leased} running on workers` : ''}
    </span>
  );
}

/** The value, updated at most every `ms` (the last change always lands). */
function useThrottled<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  const last = useRef(0);
  useEffect(() => {
    const wait = last.current + ms - Date.now();
    if (wait <= 0) {
      last.current = Date.now();
      setV(value);
      return;
    }
    const t = setTimeout(() => {
      last.current = Date.now();
      setV(value);
    }, wait);
    return () => clearTimeout(t);
  }, [value]);
  return v;
}

function ItemsList(props: { taskId: string; state: string; version: string }) {
  const version = useThrottled(props.version, 2000);
  const [offset, setOffset] = useState(0);
  const [stateFilter, setStateFilter] = useState('');
  const [data, setData] = useState<{ total: number; items: Item[] } | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    get<{ total: number; items: Item[] }>(`/v2/tasks/${props.taskId}/items` + qs({ offset, limit: ITEMS_PAGE, state: stateFilter })).then(
      (d) => !stop && (setData(d), setErr(null)),
      (e) => !stop && setErr(errorText(e)),
    );
    return () => {
      stop = true;
    };
  }, [props.taskId, offset, stateFilter, props.state, version]);
  return (
    <div class="items">
      <div class="row">
        <select
          value={stateFilter}
          onChange={(e) => {
            setOffset(0);
            setStateFilter((e.target as HTMLSelectElement).value);
          }}
        >
          <option value="">all states</option>
          {['SUCCESS', 'ERROR', 'RUNNING', 'CANCELLED'].map((s) => (
            <option value={s}>{s}</option>
          ))}
        </select>
        <span class="muted small">
          {data ? `${data.total === 0 ? 0 : offset + 1}–${Math.min(offset + ITEMS_PAGE, data.total)} of ${data.total.toLocaleString()}` : ''}
        </span>
        <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - ITEMS_PAGE))}>
          ‹
        </button>
        <button disabled={!data || offset + ITEMS_PAGE >= data.total} onClick={() => setOffset(offset + ITEMS_PAGE)} data-testid="items-next">
          ›
        </button>
      </div>
      <ErrorBox error={err} />
      <table class="grid compact">
        <thead>
          <tr>
            <th>#</th>
            <th>State</th>
            <th>Attempt</th>
            <th>Action</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {data?.items.map((it) => (
            <>
              <tr data-testid="item-row" data-index={it.index} data-state={it.state} key={it.action_execution_id}>
                <td>{it.index}</td>
                <td>
                  <StateBadge state={it.state} />
                </td>
                <td>{it.attempt ?? ''}</td>
                <td class="mono small" title={it.state_info ?? ''}>
                  {it.name}
                </td>
                <td>
                  <button class="link-button" onClick={() => setOpen(open === it.action_execution_id ? null : it.action_execution_id)}>
                    {open === it.action_execution_id ? 'hide' : 'input / output'}
                  </button>
                </td>
              </tr>
              {open === it.action_execution_id && (
                <tr key={it.action_execution_id + '-d'}>
                  <td colSpan={5}>
                    <ActionDetail id={it.action_execution_id} />
                  </td>
                </tr>
              )}
            </>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A foldable section whose content mounts (and fetches) only once it is opened. */
function Section(props: { title: string; open?: boolean; onOpen?: () => void; children: ComponentChildren; testid?: string }) {
  const [open, setOpen] = useState(!!props.open);
  useEffect(() => {
    if (props.open) props.onOpen?.();
  }, []);
  return (
    <details
      class="section"
      open={open}
      data-testid={props.testid}
      onToggle={(e) => {
        const o = (e.target as HTMLDetailsElement).open;
        setOpen(o);
        if (o) props.onOpen?.();
      }}
    >
      <summary>{props.title}</summary>
      {open && props.children}
    </details>
  );
}

export function TaskPanel(props: { taskId: string; summary: TaskSummary | null; ready: boolean; onClose: () => void; onChanged?: () => void }) {
  const { taskId, summary, ready } = props;
  const huge = (summary?.items?.total ?? 0) > HUGE;
  const [task, setTask] = useState<TaskRecord | null>(null);
  const [result, setResult] = useState<string | null | undefined>(undefined);
  const [input, setInput] = useState<string | null | undefined>(undefined);
  const [subs, setSubs] = useState<Execution[] | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [onlyFailed, setOnlyFailed] = useState(true);
  const liveState = summary?.state;

  useEffect(() => {
    // Wait for the task list (it tells whether the task is huge) unless the deep link names a task it lacks.
    if (!ready) return;
    let stop = false;
    get<TaskRecord>(`/v2/tasks/${taskId}` + (huge ? qs({ fields: LIGHT_FIELDS }) : '')).then(
      (t) => {
        if (stop) return;
        setTask(t);
        if (!huge) setResult(t.result ?? null);
      },
      (e) => !stop && setErr(errorText(e)),
    );
    return () => {
      stop = true;
    };
  }, [taskId, liveState, huge, ready]);

  const t: TaskSummary | null = task ?? summary;
  const withItems = !!(summary?.items ?? null);
  const isWorkflow = t?.type === 'WORKFLOW';

  const [inputOpen, setInputOpen] = useState(false);
  useEffect(() => {
    if (withItems || !inputOpen) return;
    // A plain task: its input is its (newest) action execution's input. Fetched when the section opens.
    get<{ action_executions: ActionExecution[] }>(`/v2/tasks/${taskId}/action_executions`).then(
      (r) => {
        const list = r.action_executions;
        setInput(list.length ? list[list.length - 1].input ?? null : null);
      },
      () => setInput(null),
    );
  }, [taskId, withItems, liveState, inputOpen]);

  useEffect(() => {
    if (!isWorkflow) return;
    get<{ executions: Execution[] }>(`/v2/tasks/${taskId}/workflow_executions`).then(
      (r) => setSubs(r.executions),
      () => setSubs([]),
    );
  }, [taskId, isWorkflow, liveState]);

  const loadResult = () => {
    if (result !== undefined) return;
    get<TaskRecord>(`/v2/tasks/${taskId}`).then(
      (full) => setResult(full.result ?? null),
      (e) => setErr(errorText(e)),
    );
  };

  const act = async (body: unknown) => {
    setBusy(true);
    try {
      setTask(await put<TaskRecord>(`/v2/tasks/${taskId}`, body));
      props.onChanged?.();
    } catch (e) {
      setErr(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const state = summary?.state ?? t?.state ?? '';
  const running = !FINISHED.has(state) && state !== 'SKIPPED';
  return (
    <div class="task-panel" data-testid="task-panel">
      <div class="panel-head">
        <h2 data-testid="task-name">{t?.name ?? '…'}</h2>
        <StateBadge state={state} testid="task-state" />
        <span class="spacer" />
        <button data-testid="action-rerun" disabled={busy || state !== 'ERROR'} onClick={() => act({ state: 'RUNNING', reset: withItems ? !onlyFailed : true })}>
          Rerun
        </button>
        <button data-testid="action-skip" disabled={busy || state !== 'ERROR'} onClick={() => act({ state: 'SKIPPED' })}>
          Skip
        </button>
        <button class="link-button" onClick={props.onClose} title="Close" data-testid="panel-close">
          ✕
        </button>
      </div>
      {withItems && state === 'ERROR' && (
        <label class="small">
          <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed((e.target as HTMLInputElement).checked)} /> rerun only the
          failed items
        </label>
      )}
      <ErrorBox error={err} onClose={() => setErr(null)} />
      {t && (
        <>
          <dl class="kv">
            <dt>Type</dt>
            <dd>{t.type ?? ''}</dd>
            <dt>Id</dt>
            <dd class="mono">{t.id}</dd>
            <dt>Created</dt>
            <dd>{t.created_at}</dd>
            <dt>Started</dt>
            <dd>{t.started_at ?? '–'}</dd>
            <dt>Finished</dt>
            <dd>{t.finished_at ?? '–'}</dd>
            <dt>Duration</dt>
            <dd>{duration(t.started_at ?? t.created_at, t.finished_at, running && !t.finished_at) || '–'}</dd>
            {summary?.worker_pool && (
              <>
                <dt>Workers</dt>
                <dd>{running ? <WorkerPoolStatus pool={summary.worker_pool} /> : `external action, pool ${summary.worker_pool}`}</dd>
              </>
            )}
            {summary?.items && (
              <>
                <dt>Items</dt>
                <dd data-testid="task-items">
                  {summary.items.total.toLocaleString()} total · {summary.items.success.toLocaleString()} ok · {summary.items.error.toLocaleString()} errors ·{' '}
                  {summary.items.running.toLocaleString()} running
                </dd>
              </>
            )}
            {(summary?.retry_no ?? 0) > 0 && (
              <>
                <dt>Retries</dt>
                <dd>{summary?.retry_no}</dd>
              </>
            )}
          </dl>
          {t.state_info && <pre class="state-info" data-testid="task-state-info">{t.state_info}</pre>}
          {isWorkflow && (
            <div class="subs">
              <h3>Sub-workflow executions</h3>
              {subs === null ? (
                <span class="muted">…</span>
              ) : subs.length === 0 ? (
                <span class="muted">none yet</span>
              ) : (
                <ul>
                  {subs.map((s) => (
                    <li>
                      <Link to={`/executions/${s.id}`} testid="sub-execution-link">
                        {s.workflow_name} {s.id.slice(0, 8)}
                      </Link>{' '}
                      <StateBadge state={s.state} />
                    </li>
                  ))}
                </ul>
              )}
            </div>
          )}
          <Section title="Published" open testid="section-published">
            <JsonTree text={task ? task.published ?? null : null} testid="task-published" />
          </Section>
          <Section title={huge ? 'Result (loaded when opened)' : 'Result'} open={!huge} onOpen={huge ? loadResult : undefined} testid="section-result">
            {result === undefined ? <span class="muted">{huge ? 'Loading the result…' : '…'}</span> : <JsonTree text={result} testid="task-result" />}
          </Section>
          {!withItems && (
            <Section title="Input" open={false} onOpen={() => setInputOpen(true)}>
              {input === undefined ? <span class="muted">…</span> : <JsonTree text={input} testid="task-input" />}
            </Section>
          )}
          <Section title="Runtime context" open={false}>
            <JsonTree text={task?.runtime_context ?? summary?.runtime_context ?? null} testid="task-runtime-context" />
          </Section>
          <Section title={withItems ? 'Items (action executions)' : 'Action executions'} open={withItems}>
            <ItemsList
              taskId={taskId}
              state={state}
              version={summary?.items ? `${summary.items.success}/${summary.items.error}/${summary.items.running}` : String(summary?.actions ?? '')}
            />
          </Section>
        </>
      )}
    </div>
  );
}
