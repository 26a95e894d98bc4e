// dagre's layered layout, in a Web Worker of its own, for large graphs (layout.ts: more than
// BIG_GRAPH nodes). ELK draws nicer routes but needs ~0.9 s to lay out 1,000 nodes when its code is not
// yet compiled (every first page load: it is a 1.4 MB GWT program); dagre does the same graph in ~0.4 s.
import dagre from '@dagrejs/dagre';

export interface DagreRequest {
  nodes: { id: string; w: number; h: number }[];
  edges: { index: number; from: string; to: string }[];
  direction: 'DOWN' | 'RIGHT';
}

export interface DagreResponse {
  boxes: { id: string; x: number; y: number; w: number; h: number }[];
  edges: { index: number; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

self.onmessage = (ev: MessageEvent<DagreRequest>) => {
  const { nodes, edges, direction } = ev.data;
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: direction === 'DOWN' ? 'TB' : 'LR', nodesep: 24, ranksep: 44, edgesep: 10,
               marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.w, height: n.h });
  for (const e of edges) g.setEdge(e.from, e.to, {}, String(e.index));
  dagre.layout(g);
  const out: DagreResponse = { boxes: [], edges: [], width: g.graph().width ?? 0, height: g.graph().height ?? 0 };
  for (const id of g.nodes()) {
    const n = g.node(id);  // dagre gives the centre
    out.boxes.push({ id, x: n.x - n.width / 2, y: n.y - n.height / 2, w: n.width, h: n.height });
  }
  for (const e of g.edges()) out.edges.push({ index: Number(e.name), points: g.edge(e).points ?? [] });
  (self as unknown as Worker).postMessage(out);
};
