import ELK from 'elkjs/lib/elk-api.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api';
import type { Graph, GraphNode } from '../types';
import type { DagreRequest, DagreResponse } from './dagre.worker';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface EdgeRoute {
  index: number; // into graph.edges
  points: { x: number; y: number }[];
}

export interface Layout {
  boxes: Map<string, Box>;
  edges: EdgeRoute[];
  width: number;
  height: number;
}

export type Direction = 'DOWN' | 'RIGHT';

let elk: InstanceType<typeof ELK> | null = null;
function engine(): InstanceType<typeof ELK> {
  if (!elk) {
    elk = new ELK({
      workerFactory: () => new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' }),
    } as unknown as ConstructorParameters<typeof ELK>[0]);
  }
  return elk;
}

/** Start the worker (it loads ELK, ~1.4 MB) before the graph arrives. */
export function warmLayout(): void {
  engine();
}

const CHAR = 7.2; // px per character at the node font size (approximation, no measuring)

export function nodeSize(n: GraphNode): { w: number; h: number } {
  if (n.kind !== 'task') return { w: Math.max(56, n.kind.length * CHAR + 24), h: 26 };
  const sub = n.action ?? n.workflow ?? '';
  const w = Math.min(260, Math.max(120, (n.task ?? n.id).length * (CHAR + 0.8) + 24, sub.length * 6.2 + 24));
  // A sub-workflow task keeps room at the top right for the link to its execution.
  return { w: n.workflow ? w + 50 : w, h: n.with_items ? 62 : 48 };
}

// Above this many nodes the layout is dagre's (dagre.worker.ts says why), else ELK's.
export const BIG_GRAPH = 300;

function layoutWithDagre(g: Graph, direction: Direction, ids: Set<string>): Promise<Layout> {
  const request: DagreRequest = {
    nodes: g.nodes.map((n) => ({ id: n.id, ...nodeSize(n) })),
    edges: g.edges.flatMap((e, index) => (ids.has(e.from) && ids.has(e.to) ? [{ index, from: e.from, to: e.to }] : [])),
    direction,
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./dagre.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (ev: MessageEvent<DagreResponse>) => {
      worker.terminate();
      const boxes = new Map<string, Box>();
      for (const b of ev.data.boxes) boxes.set(b.id, { x: b.x, y: b.y, w: b.w, h: b.h });
      resolve({ boxes, edges: ev.data.edges, width: ev.data.width, height: ev.data.height });
    };
    worker.onerror = (ev) => {
      worker.terminate();
      reject(new Error(`layout failed: ${ev.message}`));
    };
    worker.postMessage(request);
  });
}

export async function layoutGraph(g: Graph, direction: Direction): Promise<Layout> {
  const ids = new Set(g.nodes.map((n) => n.id));
  if (g.nodes.length > BIG_GRAPH) return layoutWithDagre(g, direction, ids);
  const big = g.nodes.length > 100;  // lighter settings: ELK compiles as it goes, and that is slow
  const children: ElkNode[] = g.nodes.map((n) => ({ id: n.id, ...sizeOf(n) }));
  const edges: ElkExtendedEdge[] = [];
  g.edges.forEach((e, i) => {
    if (ids.has(e.from) && ids.has(e.to)) edges.push({ id: `e${i}`, sources: [e.from], targets: [e.to] });
  });
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '44',
      'elk.spacing.nodeNode': '24',
      'elk.spacing.edgeNode': '14',
      'elk.layered.nodePlacement.strategy': big ? 'SIMPLE' : 'BRANDES_KOEPF',
      'elk.layered.thoroughness': big ? '1' : '7',
      'elk.separateConnectedComponents': 'true',
      'elk.padding': '[top=16,left=16,bottom=16,right=16]',
    },
    children,
    edges,
  };
  const out = await engine().layout(root);
  const boxes = new Map<string, Box>();
  for (const c of out.children ?? []) boxes.set(c.id, { x: c.x ?? 0, y: c.y ?? 0, w: c.width ?? 0, h: c.height ?? 0 });
  const routes: EdgeRoute[] = [];
  for (const e of (out.edges ?? []) as ElkExtendedEdge[]) {
    const index = Number(e.id.slice(1));
    const points: { x: number; y: number }[] = [];
    for (const s of e.sections ?? []) {
      if (points.length === 0) points.push(s.startPoint);
      for (const b of s.bendPoints ?? []) points.push(b);
      points.push(s.endPoint);
    }
    routes.push({ index, points });
  }
  return { boxes, edges: routes, width: out.width ?? 0, height: out.height ?? 0 };
}

function sizeOf(n: GraphNode): { width: number; height: number } {
  const s = nodeSize(n);
  return { width: s.w, height: s.h };
}
