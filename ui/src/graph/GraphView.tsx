import { memo } from 'preact/compat';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Graph, GraphEdge, GraphNode } from '../types';
import type { TaskEntry } from '../tasks';
import { layoutGraph, type Box, type Direction, type Layout } from './layout';
import { href, onLinkClick } from '../router';
import { errorText } from '../api';

export interface GraphViewProps {
  graph: Graph;
  tasks?: Map<string, TaskEntry>; // by task name; absent on a definition's preview
  executionId?: string;
  selected?: string | null; // task name
  onSelect?: (taskName: string) => void;
}

interface View {
  x: number;
  y: number;
  k: number;
}

function progressText(e: TaskEntry | undefined): string | null {
  const it = e?.latest.items;
  if (!it) return null;
  const done = it.success + it.error;
  let s = `${done}/${it.total}`;
  if (it.error) s += ` · ${it.error} error${it.error === 1 ? '' : 's'}`;
  return s;
}

function trunc(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

const TaskNode = memo(function TaskNode(props: {
  n: GraphNode;
  box: Box;
  entry: TaskEntry | undefined;
  selected: boolean;
  live: boolean;
  executionId?: string;
  onSelect?: (name: string) => void;
}) {
  const { n, box, entry, selected, live } = props;
  const name = n.task ?? n.id;
  const state = live ? entry?.latest.state ?? 'NOT_RUN' : 'NOT_RUN';
  const badges: string[] = [];
  if (n.join !== null && n.join !== undefined) badges.push(`join: ${n.join}`);
  if (n.with_items && !entry?.latest.items) badges.push('with-items');
  const retry = entry?.latest.retry_no ?? 0;
  if (retry > 0) badges.push(`retry ${retry}`);
  else if (n.retry && !live) badges.push('retry');
  if (entry && entry.count > 1) badges.push(`×${entry.count}`);
  const progress = progressText(entry);
  const subs = entry?.latest.sub_executions ?? [];
  const sub = n.action ?? (n.workflow ? `↳ ${n.workflow}` : '');
  return (
    <g
      data-testid={`node-${name}`}
      data-state={state}
      class={`node kind-task state-${state}${live ? '' : ' preview'}${selected ? ' selected' : ''}`}
      transform={`translate(${box.x},${box.y})`}
      onClick={() => props.onSelect?.(name)}
      tabIndex={props.onSelect ? 0 : undefined}
      role={props.onSelect ? 'button' : undefined}
      aria-label={`${name}: ${state}`}
      onKeyDown={(e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          props.onSelect?.(name);
        }
      }}
    >
      <title>{`${name}${sub ? `\n${sub}` : ''}\n${state}${entry?.latest.items ? `\n${entry.latest.items.running.toLocaleString()} items running` : ''}${entry?.latest.state_info ? `\n${trunc(entry.latest.state_info, 300)}` : ''}`}</title>
      <rect class="node-box" width={box.w} height={box.h} rx={6} />
      <rect class="node-stripe" width={5} height={box.h} rx={2} />
      <text class="node-name" x={12} y={17}>
        {trunc(name, Math.floor((box.w - 20 - (n.workflow ? 50 : 0)) / 7.6))}
      </text>
      <text class="node-sub" x={12} y={31}>
        {trunc(sub, Math.floor((box.w - 20) / 6.2))}
      </text>
      <text class="node-badges" x={12} y={43}>
        {badges.join(' · ')}
      </text>
      {subs.length > 0 && props.executionId && (
        <a
          href={href(`/executions/${subs[subs.length - 1]}`)}
          class="node-link"
          data-testid={`sublink-${name}`}
          onClick={(e) => {
            e.stopPropagation();
            onLinkClick(e as unknown as MouseEvent, `/executions/${subs[subs.length - 1]}`);
          }}
        >
          <title>{subs.length > 1 ? `${subs.length} sub-workflow executions; opens the newest` : 'open the sub-workflow execution'}</title>
          <rect class="node-link-hit" x={box.w - 58} y={3} width={54} height={18} rx={3} />
          <text x={box.w - 8} y={16} text-anchor="end">
            {subs.length > 1 ? `${subs.length} ` : ''}open ↗
          </text>
        </a>
      )}
      {n.with_items && (
        <text class="node-progress" x={12} y={badges.length || subs.length ? 56 : 44} data-testid={`progress-${name}`}>
          {progress ?? ''}
        </text>
      )}
    </g>
  );
});

function CommandNode(props: { n: GraphNode; box: Box }) {
  const { n, box } = props;
  return (
    <g data-testid={`node-${n.id}`} data-state="COMMAND" class={`node kind-command cmd-${n.kind}`} transform={`translate(${box.x},${box.y})`}>
      <title>{n.id}</title>
      <rect class="node-box" width={box.w} height={box.h} rx={box.h / 2} />
      <text class="node-cmd" x={box.w / 2} y={17} text-anchor="middle">
        {n.kind}
      </text>
    </g>
  );
}

function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function midpoint(points: { x: number; y: number }[]): { x: number; y: number } {
  if (points.length === 0) return { x: 0, y: 0 };
  let total = 0;
  for (let i = 1; i < points.length; i++) total += Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
  let half = total / 2;
  for (let i = 1; i < points.length; i++) {
    const d = Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
    if (half <= d && d > 0) {
      const t = half / d;
      return { x: points[i - 1].x + (points[i].x - points[i - 1].x) * t, y: points[i - 1].y + (points[i].y - points[i - 1].y) * t };
    }
    half -= d;
  }
  return points[points.length - 1];
}

const Edges = memo(function Edges(props: { graph: Graph; layout: Layout }) {
  return (
    <g class="edges">
      {props.layout.edges.map((r) => {
        const e: GraphEdge = props.graph.edges[r.index];
        const m = e.condition ? midpoint(r.points) : null;
        return (
          <g key={r.index} data-testid={`edge-${e.from}-${e.to}`} data-kind={e.kind} class={`edge kind-${e.kind}`}>
            <path d={pathOf(r.points)} marker-end={`url(#arrow-${e.kind})`} />
            {m && e.condition && (
              <text class="edge-label" x={m.x + 4} y={m.y - 3}>
                <title>{e.condition}</title>
                {trunc(e.condition.replace(/^<%\s*|\s*%>$/g, ''), 28)}
              </text>
            )}
          </g>
        );
      })}
    </g>
  );
});

const EDGE_KINDS = ['on-success', 'on-error', 'on-complete', 'on-skip', 'requires'];

export function GraphView(props: GraphViewProps) {
  const { graph } = props;
  const [direction, setDirection] = useState<Direction>('DOWN');
  const [layout, setLayout] = useState<Layout | null>(null);
  const [error, setError] = useState<string | null>(null);
  const svgRef = useRef<SVGSVGElement>(null);
  const gRef = useRef<SVGGElement>(null);
  const view = useRef<View>({ x: 0, y: 0, k: 1 });
  const drawn = useRef(false);
  const userMoved = useRef(false); // once the user pans or zooms, a resize no longer refits

  useEffect(() => {
    let cancelled = false;
    setError(null);
    layoutGraph(graph, direction).then(
      (l) => !cancelled && setLayout(l),
      (e) => !cancelled && setError(`layout failed: ${errorText(e)}`),
    );
    return () => {
      cancelled = true;
    };
  }, [graph, direction]);

  const apply = () => {
    const v = view.current;
    gRef.current?.setAttribute('transform', `translate(${v.x},${v.y}) scale(${v.k})`);
  };

  const fit = () => {
    const svg = svgRef.current;
    if (!svg || !layout) return;
    const W = svg.clientWidth || 800;
    const H = svg.clientHeight || 400;
    const k = Math.min(W / Math.max(layout.width, 1), H / Math.max(layout.height, 1), 1.25);
    const kk = Math.max(k, 0.05);
    view.current = { k: kk, x: (W - layout.width * kk) / 2, y: Math.max(0, (H - layout.height * kk) / 2) };
    apply();
  };

  // Large graphs: start readable at the top instead of fitting 1,000 nodes into a stamp.
  const place = () => {
    if (!layout) return;
    const svg = svgRef.current;
    const W = svg?.clientWidth || 800;
    const H = svg?.clientHeight || 400;
    const k = Math.min(W / Math.max(layout.width, 1), H / Math.max(layout.height, 1), 1.25);
    if (k < 0.4) {
      view.current = { k: 0.6, x: (W - layout.width * 0.6) / 2, y: 8 };
      apply();
    } else fit();
  };

  useEffect(() => {
    const svg = svgRef.current;
    if (!svg || !layout || typeof ResizeObserver === 'undefined') return;
    let w = svg.clientWidth;
    const ro = new ResizeObserver(() => {
      if (svg.clientWidth !== w && !userMoved.current) place();
      w = svg.clientWidth;
    });
    ro.observe(svg);
    return () => ro.disconnect();
  }, [layout]);

  useLayoutEffect(() => {
    if (!layout) return;
    // A small graph gets a shorter canvas; a big one up to 60% of the window.
    const svgEl = svgRef.current;
    if (svgEl) {
      const want = Math.round(Math.min(window.innerHeight * 0.6, Math.max(220, layout.height + 40)));
      svgEl.style.height = `${want}px`;
    }
    userMoved.current = false;
    place();
    if (!drawn.current) {
      drawn.current = true;
      performance.mark('bora:graph-rendered');
      document.body.dataset.graphReady = '1';
    }
  }, [layout]);

  useEffect(
    () => () => {
      delete document.body.dataset.graphReady;
    },
    [],
  );

  // Wheel zoom (non-passive so the page does not scroll) and drag to pan.
  useEffect(() => {
    const svg = svgRef.current;
    if (!svg) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      userMoved.current = true;
      const r = svg.getBoundingClientRect();
      const px = e.clientX - r.left;
      const py = e.clientY - r.top;
      const v = view.current;
      const k = Math.min(4, Math.max(0.05, v.k * Math.exp(-e.deltaY * 0.0015)));
      view.current = { k, x: px - ((px - v.x) * k) / v.k, y: py - ((py - v.y) * k) / v.k };
      apply();
    };
    let drag: { x: number; y: number; vx: number; vy: number; moved: boolean } | null = null;
    const onDown = (e: PointerEvent) => {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, vx: view.current.x, vy: view.current.y, moved: false };
    };
    const onMove = (e: PointerEvent) => {
      if (!drag) return;
      const dx = e.clientX - drag.x;
      const dy = e.clientY - drag.y;
      if (!drag.moved && Math.hypot(dx, dy) < 4) return;
      if (!drag.moved) svg.setPointerCapture(e.pointerId);
      drag.moved = true;
      userMoved.current = true;
      svg.classList.add('panning');
      view.current = { ...view.current, x: drag.vx + dx, y: drag.vy + dy };
      apply();
    };
    const onUp = (e: PointerEvent) => {
      if (drag?.moved) {
        // Swallow the click that ends a drag so it does not select a node.
        const stop = (ev: Event) => {
          ev.stopPropagation();
          ev.preventDefault();
        };
        svg.addEventListener('click', stop, { capture: true, once: true });
        setTimeout(() => svg.removeEventListener('click', stop, { capture: true }), 0);
        if (svg.hasPointerCapture(e.pointerId)) svg.releasePointerCapture(e.pointerId);
      }
      svg.classList.remove('panning');
      drag = null;
    };
    svg.addEventListener('wheel', onWheel, { passive: false });
    svg.addEventListener('pointerdown', onDown);
    svg.addEventListener('pointermove', onMove);
    svg.addEventListener('pointerup', onUp);
    svg.addEventListener('pointercancel', onUp);
    return () => {
      svg.removeEventListener('wheel', onWheel);
      svg.removeEventListener('pointerdown', onDown);
      svg.removeEventListener('pointermove', onMove);
      svg.removeEventListener('pointerup', onUp);
      svg.removeEventListener('pointercancel', onUp);
    };
  }, []);

  const zoom = (f: number) => {
    userMoved.current = true;
    const svg = svgRef.current;
    const W = svg?.clientWidth ?? 800;
    const H = svg?.clientHeight ?? 400;
    const v = view.current;
    const k = Math.min(4, Math.max(0.05, v.k * f));
    view.current = { k, x: W / 2 - ((W / 2 - v.x) * k) / v.k, y: H / 2 - ((H / 2 - v.y) * k) / v.k };
    apply();
  };

  const live = props.tasks !== undefined;
  return (
    <div class="graph">
      <div class="graph-toolbar">
        <button onClick={fit} data-testid="graph-fit" title="Fit the graph">
          fit
        </button>
        <button onClick={() => zoom(1.25)} title="Zoom in">
          +
        </button>
        <button onClick={() => zoom(0.8)} title="Zoom out">
          −
        </button>
        <button onClick={() => setDirection(direction === 'DOWN' ? 'RIGHT' : 'DOWN')} title="Layout direction">
          {direction === 'DOWN' ? '↓' : '→'}
        </button>
        <span class="muted">
          {graph.nodes.length} nodes{graph.type ? ` · ${graph.type}` : ''}
          {!layout && !error ? ' · laying out…' : ''}
        </span>
      </div>
      {error && <div class="error-box">{error}</div>}
      <svg ref={svgRef} class="graph-svg" data-testid="graph">
        <defs>
          {EDGE_KINDS.map((k) => (
            <marker id={`arrow-${k}`} class={`arrow kind-${k}`} viewBox="0 0 10 10" refX={9} refY={5} markerWidth={7} markerHeight={7} orient="auto-start-reverse">
              <path d="M0,0 L10,5 L0,10 z" />
            </marker>
          ))}
        </defs>
        <g ref={gRef}>
          {layout && <Edges graph={graph} layout={layout} />}
          {layout &&
            graph.nodes.map((n) => {
              const box = layout.boxes.get(n.id);
              if (!box) return null;
              if (n.kind !== 'task') return <CommandNode key={n.id} n={n} box={box} />;
              const name = n.task ?? n.id;
              return (
                <TaskNode
                  key={n.id}
                  n={n}
                  box={box}
                  entry={props.tasks?.get(name)}
                  selected={props.selected === name}
                  live={live}
                  executionId={props.executionId}
                  onSelect={props.onSelect}
                />
              );
            })}
        </g>
      </svg>
    </div>
  );
}
