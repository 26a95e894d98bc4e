import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, errorText, get, put, qs, readStream } from '../api';
import { navigate } from '../router';
import { ErrorBox, Link, Loading, StateBadge } from '../components/common';
import { GraphView } from '../graph/GraphView';
import { warmLayout } from '../graph/layout';
import { emptyStore, mergeTasks, type TaskStore } from '../tasks';
import type { Execution, Graph, TaskSummary } from '../types';
import { FINISHED, duration } from '../util';
import { TaskPanel } from './TaskPanel';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function bumpStreamEvents(): void {
  const n = Number(document.body.dataset.streamEvents ?? '0');
  document.body.dataset.streamEvents = String(n + 1);
}

/** Live state of one execution: its event stream (reopened after a break while it runs). */
function useLiveExecution(id: string) {
  const [exec, setExec] = useState<Execution | null>(null);
  const [store, setStore] = useState<TaskStore>(emptyStore);
  const [loaded, setLoaded] = useState(false); // the first task list has arrived
  const [error, setError] = useState<string | null>(null);
  const [gone, setGone] = useState(false);
  // Bumped after a rerun/skip/resume: the stream of a finished execution has closed; follow it again.
  const [gen, setGen] = useState(0);
  const lastId = useRef('');

  useEffect(() => {
    if (lastId.current !== id) {
      lastId.current = id;
      setExec(null);
      setStore(emptyStore());
      setLoaded(false);
    }
    setError(null);
    setGone(false);
    const ac = new AbortController();
    let ended = false;
    // The header first: the record alone is quick even when the execution has 1,000 tasks.
    get<Execution>(`/v2/executions/${id}`, ac.signal).then(
      (e) => setExec((cur) => cur ?? e),
      (e) => !ac.signal.aborted && setError(errorText(e)),
    );
    const onEvent = (ev: { event: string; data: string }) => {
      let data: any;
      try {
        data = ev.data ? JSON.parse(ev.data) : {};
      } catch {
        return;
      }
      if (ev.event === 'execution') setExec(data as Execution);
      else if (ev.event === 'tasks') {
        setStore((s) => mergeTasks(s, (data.tasks ?? []) as TaskSummary[]));
        setLoaded(true);
      }
      else if (ev.event === 'end') {
        ended = true;
        setExec((cur) => (cur ? { ...cur, state: data.state ?? cur.state } : cur));
        get<Execution>(`/v2/executions/${id}`, ac.signal).then(setExec, () => undefined);
      } else if (ev.event === 'gone') {
        ended = true;
        setGone(true);
      } else return;
      bumpStreamEvents();
    };
    (async () => {
      while (!ac.signal.aborted && !ended) {
        try {
          await readStream(`/v2/executions/${id}/stream`, onEvent, ac.signal);
        } catch (e) {
          if (ac.signal.aborted) return;
          if (e instanceof ApiError && e.status === 404) {
            setError(e.message);  // no such execution
            return;
          }
        }
        if (ended || ac.signal.aborted) return;
        await sleep(1000); // the stream broke while the execution runs: reconnect
      }
    })();
    return () => ac.abort();
  }, [id, gen]);

  const follow = useCallback(() => setGen((g) => g + 1), []);
  return { exec, setExec, store, loaded, error, setError, gone, follow };
}

function ExecHeader(props: { exec: Execution; onChange: (e: Execution) => void; onError: (s: string) => void }) {
  const e = props.exec;
  const [busy, setBusy] = useState(false);
  const [parent, setParent] = useState<string | null>(null);
  useEffect(() => {
    setParent(null);
    if (!e.task_execution_id) return;
    get<{ workflow_execution_id: string }>(`/v2/tasks/${e.task_execution_id}` + qs({ fields: 'id,workflow_execution_id' })).then(
      (t) => setParent(t.workflow_execution_id),
      () => setParent(null),
    );
  }, [e.task_execution_id]);
  const act = async (state: string) => {
    setBusy(true);
    try {
      props.onChange(await put<Execution>(`/v2/executions/${e.id}`, { state }));
    } catch (err) {
      props.onError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const running = !FINISHED.has(e.state);
  // Tick the running duration once a second.
  const [, tick] = useState(0);
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(t);
  }, [running]);
  return (
    <div class="exec-head">
      <div class="exec-title">
        <h1>
          <Link to={`/workflows/${encodeURIComponent(e.workflow_name)}`}>{e.workflow_name}</Link>
        </h1>
        <StateBadge state={e.state} testid="execution-state" />
        <span class="mono muted" title="execution id">
          {e.id}
        </span>
        <span class="spacer" />
        <button data-testid="action-pause" disabled={busy || e.state !== 'RUNNING'} onClick={() => act('PAUSED')}>
          Pause
        </button>
        <button data-testid="action-resume" disabled={busy || e.state !== 'PAUSED'} onClick={() => act('RUNNING')}>
          Resume
        </button>
        <button data-testid="action-cancel" class="danger" disabled={busy || !running} onClick={() => act('CANCELLED')}>
          Cancel
        </button>
      </div>
      <div class="exec-meta">
        <span>created {e.created_at}</span>
        <span>updated {e.updated_at}</span>
        <span>duration {duration(e.created_at, e.updated_at, running) || '–'}</span>
        {e.description && <span>{e.description}</span>}
        {e.task_execution_id && (
          <span>
            sub-workflow of{' '}
            {parent ? (
              <Link to={`/executions/${parent}/tasks/${e.task_execution_id}`} testid="parent-link">
                parent execution
              </Link>
            ) : (
              <span class="mono">task {e.task_execution_id.slice(0, 8)}</span>
            )}
          </span>
        )}
      </div>
      {e.state_info && <pre class="state-info" data-testid="execution-state-info">{e.state_info}</pre>}
    </div>
  );
}

const ROWS = 500;

function TaskTable(props: { store: TaskStore; execId: string; selectedId: string | null }) {
  const [filter, setFilter] = useState('');
  const [all, setAll] = useState(false);
  const rows = useMemo(() => {
    const list = Array.from(props.store.byId.values());
    list.sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : a.name < b.name ? -1 : 1));
    const q = filter.toLowerCase();
    return q ? list.filter((t) => t.name.toLowerCase().includes(q) || t.state.toLowerCase().includes(q)) : list;
  }, [props.store, filter]);
  const shown = all ? rows : rows.slice(0, ROWS);
  return (
    <div class="task-table">
      <div class="row">
        <h2>Tasks</h2>
        <span class="muted">{props.store.byId.size.toLocaleString()} task executions</span>
        <input type="search" placeholder="filter by name or state" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <table class="grid compact">
        <thead>
          <tr>
            <th>Task</th>
            <th>State</th>
            <th>Started (UTC)</th>
            <th>Duration</th>
            <th>Info</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((t) => (
            <tr
              key={t.id}
              data-testid="task-row"
              data-name={t.name}
              data-state={t.state}
              class={`clickable${t.id === props.selectedId ? ' selected' : ''}`}
              onClick={() => navigate(`/executions/${props.execId}/tasks/${t.id}`)}
            >
              <td>
                <Link to={`/executions/${props.execId}/tasks/${t.id}`}>{t.name}</Link>
              </td>
              <td>
                <StateBadge state={t.state} />
              </td>
              <td class="nowrap">{t.started_at ?? ''}</td>
              <td class="nowrap">{duration(t.started_at ?? t.created_at, t.finished_at, !t.finished_at && !FINISHED.has(t.state))}</td>
              <td class="muted small">
                {[
                  t.items ? `${(t.items.success + t.items.error).toLocaleString()}/${t.items.total.toLocaleString()} items` : '',
                  t.retry_no ? `retry ${t.retry_no}` : '',
                  !t.items && (t.actions ?? 0) > 1 ? `${t.actions} actions` : '',
                  t.type === 'WORKFLOW' ? 'sub-workflow' : '',
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length > shown.length && (
        <button class="link-button" onClick={() => setAll(true)}>
          show all {rows.length.toLocaleString()} rows
        </button>
      )}
    </div>
  );
}

export function ExecutionPage(props: { id: string; taskId: string | null }) {
  const { id, taskId } = props;
  const { exec, setExec, store, loaded, error, setError, gone, follow } = useLiveExecution(id);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [graphError, setGraphError] = useState<string | null>(null);
  const graphFor = useRef<string>('');
  useEffect(() => warmLayout(), []);
  // Escape closes the task panel.
  useEffect(() => {
    if (!taskId) return;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement | null;
      if (e.key === 'Escape' && !(t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA'))) navigate(`/executions/${id}`);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [id, taskId]);

  useEffect(() => {
    if (!exec) return;
    const ident = exec.workflow_id || exec.workflow_name;
    if (graphFor.current === ident) return;
    graphFor.current = ident;
    setGraph(null);
    setGraphError(null);
    get<Graph>(`/v2/workflows/${encodeURIComponent(ident)}/graph` + qs({ namespace: exec.workflow_namespace })).then(setGraph, (e) =>
      setGraphError(errorText(e)),
    );
  }, [exec?.workflow_id, exec?.workflow_name]);

  const storeRef = useRef(store);
  storeRef.current = store;
  const selectedTask = taskId ? store.byId.get(taskId) ?? null : null;
  const onSelect = useCallback(
    (name: string) => {
      // A node selects the newest task execution of that name.
      const e = storeRef.current.byName.get(name);
      if (e) navigate(`/executions/${id}/tasks/${e.latest.id}`);
    },
    [id],
  );

  return (
    <div class={`page exec-page${taskId ? ' with-panel' : ''}`}>
      {gone && <div class="error-box">This execution was deleted.</div>}
      <ErrorBox error={error} onClose={() => setError(null)} />
      {exec ? (
        <ExecHeader
          exec={exec}
          onChange={(e) => {
            setExec(e);
            follow();
          }}
          onError={setError}
        />
      ) : !error && <Loading what="execution" />}
      {(exec || !error) && (
      <div class="exec-body">
        <div class="exec-main">
          <section class="graph-section">
            {graph ? (
              <GraphView graph={graph} tasks={store.byName} executionId={id} selected={selectedTask?.name ?? null} onSelect={onSelect} />
            ) : graphError ? (
              <div class="muted graph-missing">Graph unavailable: {graphError}</div>
            ) : (
              <Loading what="graph" />
            )}
          </section>
          <TaskTable store={store} execId={id} selectedId={taskId} />
        </div>
        {taskId && (
          <aside class="task-panel-wrap">
            <TaskPanel
              key={taskId}
              taskId={taskId}
              summary={selectedTask}
              ready={loaded}
              onClose={() => navigate(`/executions/${id}`)}
              onChanged={follow}
            />
          </aside>
        )}
      </div>
      )}
    </div>
  );
}
