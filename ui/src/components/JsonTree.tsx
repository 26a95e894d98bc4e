import { useMemo, useState } from 'preact/hooks';
import { Highlight } from './common';

export const MAX_CHILDREN = 100;
export const MAX_STRING = 2000;

/** Does a value (or any key/value below it) contain q? Bounded so a huge value stays responsive. */
function matches(v: unknown, q: string, budget: { n: number }): boolean {
  if (budget.n-- <= 0) return false;
  if (v === null || typeof v !== 'object') return String(v).toLowerCase().includes(q);
  if (Array.isArray(v)) return v.some((c) => matches(c, q, budget));
  for (const [k, c] of Object.entries(v as Record<string, unknown>)) {
    if (k.toLowerCase().includes(q) || matches(c, q, budget)) return true;
  }
  return false;
}

function Scalar(props: { v: unknown; q: string }) {
  const { v, q } = props;
  const [all, setAll] = useState(false);
  if (v === null) return <span class="j-null">null</span>;
  if (typeof v === 'string') {
    const long = v.length > MAX_STRING && !all;
    const shown = long ? v.slice(0, MAX_STRING) : v;
    return (
      <span class="j-str">
        "<Highlight text={shown} q={q} />
        {long ? '…' : ''}"
        {long && (
          <button class="link-button show-all" onClick={() => setAll(true)}>
            show all ({v.length.toLocaleString()} chars)
          </button>
        )}
      </span>
    );
  }
  if (typeof v === 'number') return <span class="j-num"><Highlight text={String(v)} q={q} /></span>;
  if (typeof v === 'boolean') return <span class="j-bool"><Highlight text={String(v)} q={q} /></span>;
  return <span>{String(v)}</span>;
}

function Node(props: { name?: string; v: unknown; q: string; depth: number }) {
  const { name, v, q, depth } = props;
  const [open, setOpen] = useState(depth < 2);
  const [all, setAll] = useState(false);
  const key = name !== undefined ? (
    <span class="j-key">
      <Highlight text={name} q={q} />:{' '}
    </span>
  ) : null;
  if (v === null || typeof v !== 'object') {
    return (
      <div class="j-row">
        {key}
        <Scalar v={v} q={q} />
      </div>
    );
  }
  const isArr = Array.isArray(v);
  const entries: [string, unknown][] = isArr
    ? (v as unknown[]).map((c, i) => [String(i), c])
    : Object.entries(v as Record<string, unknown>);
  const ql = q.toLowerCase();
  const filtered = q
    ? entries.filter(([k, c]) => (!isArr && k.toLowerCase().includes(ql)) || matches(c, ql, { n: 20000 }))
    : entries;
  const shown = all ? filtered : filtered.slice(0, MAX_CHILDREN);
  const expanded = open || (q !== '' && depth < 6);
  const summary = isArr ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <div class="j-node">
      <div class="j-row">
        <button class="j-toggle" onClick={() => setOpen(!expanded)} aria-expanded={expanded}>
          {expanded ? '▾' : '▸'}
        </button>
        {key}
        <span class="j-summary">{summary}</span>
        {q && filtered.length !== entries.length && <span class="muted"> ({filtered.length} match)</span>}
      </div>
      {expanded && (
        <div class="j-children">
          {shown.map(([k, c]) => (
            <Node key={k} name={isArr ? `${k}` : k} v={c} q={isArr ? q : q} depth={depth + 1} />
          ))}
          {filtered.length > shown.length && (
            <button class="link-button show-all" onClick={() => setAll(true)}>
              show all ({filtered.length.toLocaleString()} entries, {(filtered.length - shown.length).toLocaleString()} hidden)
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** A foldable JSON tree of a JSON text (as the API sends it), with a search box. */
export function JsonTree(props: { text: string | null | undefined; testid?: string }) {
  const [q, setQ] = useState('');
  const parsed = useMemo(() => {
    if (props.text === null || props.text === undefined) return { ok: true, v: null as unknown };
    try {
      return { ok: true, v: JSON.parse(props.text) as unknown };
    } catch {
      return { ok: false, v: props.text as unknown };
    }
  }, [props.text]);
  const isTree = parsed.v !== null && typeof parsed.v === 'object';
  return (
    <div class="json-tree" data-testid={props.testid}>
      {isTree && (
        <input
          class="json-search"
          type="search"
          placeholder="search keys and values"
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
        />
      )}
      <div class="j-body">
        <Node v={parsed.v} q={q} depth={0} />
      </div>
    </div>
  );
}
