import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, get, qs } from '../api';
import { navigate } from '../router';
import { ErrorBox, Link, StateBadge } from '../components/common';
import type { Execution } from '../types';
import { FINISHED, STATES, duration, localInputToApi, shortId } from '../util';

interface Filters {
  state: string;
  workflow: string;
  after: string; // datetime-local value, UTC
  before: string;
  q: string;
  marker: string;
}

const PAGE = 50;

function fromQuery(q: URLSearchParams): Filters {
  return {
    state: q.get('state') ?? '',
    workflow: q.get('workflow') ?? '',
    after: q.get('after') ?? '',
    before: q.get('before') ?? '',
    q: q.get('q') ?? '',
    marker: q.get('marker') ?? '',
  };
}

function toQuery(f: Filters): string {
  return qs({ state: f.state, workflow: f.workflow, after: f.after, before: f.before, q: f.q, marker: f.marker });
}

/** The API filters for the list and the counts (`created_before` and `search` are Bora's). */
function apiFilters(f: Filters, withState: boolean): Record<string, string> {
  const p: Record<string, string> = {};
  if (withState && f.state) p.state = f.state;
  if (f.workflow) p.workflow_name = f.workflow;
  if (f.after) p.created_at = `gte:${localInputToApi(f.after)}`;
  if (f.before) p.created_before = localInputToApi(f.before);
  if (f.q) p.search = f.q;
  return p;
}

function markerOf(next: string | undefined): string | null {
  if (!next) return null;
  try {
    return new URL(next, window.location.origin).searchParams.get('marker');
  } catch {
    return null;
  }
}

export function ExecutionsPage(props: { query: URLSearchParams }) {
  const f = fromQuery(props.query);
  const key = toQuery(f);
  const [rows, setRows] = useState<Execution[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [counts, setCounts] = useState<{ counts: Record<string, number>; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Filters>(f);
  const prevMarkers = useRef<string[]>([]);
  const [, tick] = useState(0);

  useEffect(() => setDraft(f), [key]);

  useEffect(() => {
    let stop = false;
    let busy = false; // a slow server: do not stack refreshes
    const ac = new AbortController();
    const load = async () => {
      if (busy) return;
      busy = true;
      const list = get<{ executions: Execution[]; next?: string }>(
        '/v2/executions' +
          qs({ limit: PAGE, sort_keys: 'created_at', sort_dirs: 'desc', marker: f.marker, ...apiFilters(f, true) }),
        ac.signal,
      );
      const cnt = get<{ counts: Record<string, number>; total: number }>(
        '/v2/executions/counts' + qs(apiFilters(f, false)),
        ac.signal,
      );
      try {
        const [l, c] = await Promise.all([list, cnt]);
        if (stop) return;
        setRows(l.executions);
        setNext(markerOf(l.next));
        if (c) setCounts(c);
        setError(null);
      } catch (e) {
        if (!stop && !ac.signal.aborted) setError(errorText(e));
      } finally {
        busy = false;
      }
    };
    load();
    const t = setInterval(() => {
      if (document.visibilityState === 'visible') load();
      else tick((n) => n + 1);
    }, 2000);
    return () => {
      stop = true;
      ac.abort();
      clearInterval(t);
    };
  }, [key]);

  const go = (nf: Filters, resetPaging = true) => {
    if (resetPaging) {
      nf = { ...nf, marker: '' };
      prevMarkers.current = [];
    }
    navigate('/executions' + toQuery(nf));
  };

  const set = (k: keyof Filters, v: string) => setDraft({ ...draft, [k]: v });

  return (
    <div class="page">
      <div class="page-head">
        <h1>Executions</h1>
        <Link to="/start" class="button primary" testid="start-execution">
          Start execution
        </Link>
      </div>
      <div class="counts">
        {STATES.map((s) => (
          <button
            class={`count state-${s}${f.state === s ? ' active' : ''}`}
            data-testid={`count-${s}`}
            title={f.state === s ? 'Clear the state filter' : `Show ${s} executions`}
            onClick={() => go({ ...f, state: f.state === s ? '' : s })}
          >
            <span class="count-n">{counts ? (counts.counts[s] ?? 0).toLocaleString() : '–'}</span>
            <span class="count-label">{s}</span>
          </button>
        ))}
        <button class={`count${f.state === '' ? ' active' : ''}`} data-testid="count-total" onClick={() => go({ ...f, state: '' })}>
          <span class="count-n">{counts ? counts.total.toLocaleString() : '–'}</span>
          <span class="count-label">ALL</span>
        </button>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          go(draft);
        }}
      >
        <label>
          State
          <select
            data-testid="filter-state"
            value={draft.state}
            onChange={(e) => go({ ...draft, state: (e.target as HTMLSelectElement).value })}
          >
            <option value="">any</option>
            {STATES.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Workflow
          <input data-testid="filter-workflow" value={draft.workflow} onInput={(e) => set('workflow', (e.target as HTMLInputElement).value)} placeholder="name" />
        </label>
        <label>
          Created after (UTC)
          <input data-testid="filter-after" type="datetime-local" value={draft.after} onInput={(e) => set('after', (e.target as HTMLInputElement).value)} />
        </label>
        <label>
          before (UTC)
          <input data-testid="filter-before" type="datetime-local" value={draft.before} onInput={(e) => set('before', (e.target as HTMLInputElement).value)} />
        </label>
        <label class="grow">
          Search
          <input data-testid="filter-search" type="search" value={draft.q} onInput={(e) => set('q', (e.target as HTMLInputElement).value)} placeholder="id, workflow, description, state info" />
        </label>
        <button type="submit" data-testid="filter-apply">
          Apply
        </button>
        <button type="button" class="link-button" onClick={() => go({ state: '', workflow: '', after: '', before: '', q: '', marker: '' })}>
          clear
        </button>
      </form>
      <ErrorBox error={error} />
      <table class="grid executions">
        <thead>
          <tr>
            <th>ID</th>
            <th>Workflow</th>
            <th>State</th>
            <th>Created (UTC)</th>
            <th>Duration</th>
            <th>Description</th>
          </tr>
        </thead>
        <tbody>
          {rows?.map((e) => (
            <tr data-testid="execution-row" data-id={e.id} data-state={e.state} key={e.id}>
              <td class="mono">
                <Link to={`/executions/${e.id}`} title={e.id}>
                  {shortId(e.id)}
                </Link>
                {e.task_execution_id && <span class="muted small"> sub</span>}
              </td>
              <td>{e.workflow_name}</td>
              <td>
                <StateBadge state={e.state} />
              </td>
              <td class="nowrap">{e.created_at}</td>
              <td class="nowrap">{duration(e.created_at, e.updated_at, !FINISHED.has(e.state))}</td>
              <td class="desc" title={e.state_info ?? ''}>
                {e.description}
                {e.state === 'ERROR' && e.state_info && <span class="muted small"> {e.state_info.slice(0, 120)}</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows && rows.length === 0 && <p class="muted empty">No executions match.</p>}
      {!rows && !error && <p class="muted">Loading…</p>}
      <div class="pager">
        <button
          data-testid="page-prev"
          disabled={!f.marker}
          onClick={() => {
            const m = prevMarkers.current.pop() ?? '';
            navigate('/executions' + toQuery({ ...f, marker: m }));
          }}
        >
          ‹ Prev
        </button>
        <button
          data-testid="page-next"
          disabled={!next}
          onClick={() => {
            prevMarkers.current.push(f.marker);
            navigate('/executions' + toQuery({ ...f, marker: next ?? '' }));
          }}
        >
          Next ›
        </button>
      </div>
    </div>
  );
}
