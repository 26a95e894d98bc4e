import { useEffect, useRef, useState } from 'preact/hooks';
import { errorText, get, qs, request } from '../api';
import { ErrorBox, Link, Loading } from '../components/common';
import { GraphView } from '../graph/GraphView';
import type { Graph, ValidationResult, WorkflowDef } from '../types';

type Kind = 'workflows' | 'workbooks';

export function DefinitionsPage(props: { kind: Kind }) {
  const { kind } = props;
  const [list, setList] = useState<WorkflowDef[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  useEffect(() => {
    setList(null);
    get<Record<string, WorkflowDef[]>>(`/v2/${kind}`).then(
      (r) => setList((r[kind] ?? []).sort((a, b) => a.name.localeCompare(b.name))),
      (e) => setError(errorText(e)),
    );
  }, [kind]);
  const q = filter.toLowerCase();
  const rows = list?.filter((w) => !q || w.name.toLowerCase().includes(q) || (w.tags ?? []).some((t) => t.toLowerCase().includes(q)));
  return (
    <div class="page">
      <div class="page-head">
        <h1>{kind === 'workflows' ? 'Workflows' : 'Workbooks'}</h1>
        <input type="search" placeholder="filter" value={filter} onInput={(e) => setFilter((e.target as HTMLInputElement).value)} />
      </div>
      <ErrorBox error={error} />
      {!list && !error && <Loading />}
      {rows && (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Namespace</th>
              {kind === 'workflows' && <th>Input</th>}
              <th>Tags</th>
              <th>Scope</th>
              <th>Updated (UTC)</th>
              {kind === 'workflows' && <th></th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((w) => (
              <tr data-testid={`${kind.slice(0, -1)}-row`} data-name={w.name}>
                <td>
                  <Link to={`/${kind}/${encodeURIComponent(w.name)}${w.namespace ? qs({ namespace: w.namespace }) : ''}`}>{w.name}</Link>
                </td>
                <td class="muted">{w.namespace}</td>
                {kind === 'workflows' && <td class="mono small">{w.input}</td>}
                <td>{(w.tags ?? []).join(', ')}</td>
                <td class="muted">{w.scope}</td>
                <td class="nowrap">{w.updated_at ?? w.created_at}</td>
                {kind === 'workflows' && (
                  <td>
                    <Link to={`/start?workflow=${encodeURIComponent(w.name)}`}>start</Link>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {rows && rows.length === 0 && <p class="muted">None.</p>}
    </div>
  );
}

function Editor(props: { value: string; onInput: (v: string) => void; errorLines: Map<number, string>; area: { current: HTMLTextAreaElement | null } }) {
  const gutter = useRef<HTMLDivElement>(null);
  const lines = props.value.split('\n').length;
  const nums = [];
  for (let i = 1; i <= lines; i++) {
    const err = props.errorLines.get(i);
    nums.push(
      err !== undefined ? (
        <div class="ln err" data-testid={`error-line-${i}`} title={err}>
          {i}
        </div>
      ) : (
        <div class="ln">{i}</div>
      ),
    );
  }
  return (
    <div class="editor">
      <div class="gutter" ref={gutter} aria-hidden="true">
        {nums}
      </div>
      <textarea
        ref={props.area}
        data-testid="definition-editor"
        spellcheck={false}
        wrap="off"
        value={props.value}
        onInput={(e) => props.onInput((e.target as HTMLTextAreaElement).value)}
        onScroll={(e) => {
          if (gutter.current) gutter.current.scrollTop = (e.target as HTMLTextAreaElement).scrollTop;
        }}
      />
    </div>
  );
}

export function DefinitionPage(props: { kind: Kind; name: string }) {
  const { kind, name } = props;
  const [def, setDef] = useState<WorkflowDef | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [validation, setValidation] = useState<ValidationResult | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [graph, setGraph] = useState<Graph | null>(null);
  const [graphError, setGraphError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const namespace = new URLSearchParams(window.location.search).get('namespace') ?? '';
  const area = useRef<HTMLTextAreaElement>(null);
  const goToLine = (line: number) => {
    const ta = area.current;
    if (!ta) return;
    const lines = ta.value.split('\n');
    let pos = 0;
    for (let i = 0; i < line - 1 && i < lines.length; i++) pos += lines[i].length + 1;
    ta.focus();
    ta.setSelectionRange(pos, pos + (lines[line - 1]?.length ?? 0));
    ta.scrollTop = Math.max(0, (line - 5) * 18);
  };

  const loadGraph = () => {
    if (kind !== 'workflows') return;
    get<Graph>(`/v2/workflows/${encodeURIComponent(name)}/graph` + qs({ namespace })).then(
      (g) => (setGraph(g), setGraphError(null)),
      (e) => setGraphError(errorText(e)),
    );
  };

  useEffect(() => {
    setDef(null);
    setValidation(null);
    get<WorkflowDef>(`/v2/${kind}/${encodeURIComponent(name)}` + qs({ namespace })).then(
      (d) => {
        setDef(d);
        setText(d.definition ?? '');
      },
      (e) => setError(errorText(e)),
    );
    loadGraph();
  }, [kind, name]);

  const errorLines = new Map<number, string>();
  for (const e of validation?.errors ?? []) if (e.line) errorLines.set(e.line, (errorLines.get(e.line) ? errorLines.get(e.line) + '\n' : '') + e.message);

  const validate = async () => {
    setBusy(true);
    setSaved(null);
    try {
      setValidation(await request<ValidationResult>('POST', `/v2/${kind}/validate`, { text }));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  const save = async () => {
    setBusy(true);
    setSaved(null);
    setError(null);
    try {
      await request<unknown>('PUT', `/v2/${kind}` + qs({ namespace }), { text });
      setSaved('Saved.');
      setValidation(null);
      setDef((d) => (d ? { ...d, definition: text } : d));
      loadGraph();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="page">
      <div class="page-head">
        <h1>
          <Link to={`/${kind}`}>{kind === 'workflows' ? 'Workflows' : 'Workbooks'}</Link> / {name}
        </h1>
        {kind === 'workflows' && (
          <Link to={`/start?workflow=${encodeURIComponent(name)}`} class="button primary" testid="definition-start">
            Start
          </Link>
        )}
      </div>
      <ErrorBox error={error} onClose={() => setError(null)} />
      {!def && !error && <Loading />}
      {def && (
        <div class={`definition${kind === 'workflows' ? ' with-graph' : ''}`}>
          <div class="definition-edit">
            <div class="row">
              <button data-testid="definition-validate" onClick={validate} disabled={busy}>
                Validate
              </button>
              <button data-testid="definition-save" class="primary" onClick={save} disabled={busy || text === (def.definition ?? '')}>
                Save
              </button>
              {def.input !== undefined && kind === 'workflows' && <span class="muted small">input: {def.input || '(none)'}</span>}
              {saved && <span class="ok" data-testid="definition-saved">{saved}</span>}
              {validation && (
                <span class={validation.valid ? 'ok' : 'bad'} data-testid="validation-result">
                  {validation.valid ? 'Valid.' : 'Not valid.'}
                </span>
              )}
            </div>
            {validation && !validation.valid && (
              <ul class="validation-errors" data-testid="validation-errors">
                {(validation.errors?.length ? validation.errors : [{ message: validation.error ?? 'invalid' } as { line?: number; column?: number; message: string; task?: string }]).map((e) => (
                  <li>
                    {e.line ? (
                      <button class="link-button mono" onClick={() => goToLine(e.line!)} title="go to the line">
                        line {e.line}
                        {e.column ? `:${e.column}` : ''}:
                      </button>
                    ) : null}
                    {e.task ? <span class="mono">[{e.task}] </span> : null}
                    {e.message}
                  </li>
                ))}
              </ul>
            )}
            <Editor value={text} onInput={setText} errorLines={errorLines} area={area} />
          </div>
          {kind === 'workflows' && (
            <div class="definition-graph">
              {graph ? <GraphView graph={graph} /> : graphError ? <div class="muted graph-missing">Graph unavailable: {graphError}</div> : <Loading what="graph" />}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
