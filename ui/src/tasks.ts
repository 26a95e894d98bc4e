import type { TaskSummary } from './types';

/** The task executions of one task name: a loop makes several; the newest one is shown. */
export interface TaskEntry {
  latest: TaskSummary;
  count: number;
}

export interface TaskStore {
  byId: Map<string, TaskSummary>;
  byName: Map<string, TaskEntry>;
}

export const emptyStore = (): TaskStore => ({ byId: new Map(), byName: new Map() });

function retryOf(t: TaskSummary): number {
  if (typeof t.retry_no === 'number') return t.retry_no;
  if (t.runtime_context) {
    try {
      const rc = JSON.parse(t.runtime_context);
      const n = rc?.retry_task_policy?.retry_no;
      if (typeof n === 'number') return n;
    } catch {
      /* ignore */
    }
  }
  return 0;
}

function newer(a: TaskSummary, b: TaskSummary): boolean {
  // true when a is newer than b
  if (a.created_at !== b.created_at) return (a.created_at ?? '') > (b.created_at ?? '');
  return a.id > b.id;
}

/** Merge task summaries by id (the stream sends all tasks first, then only the changed ones). */
export function mergeTasks(store: TaskStore, tasks: TaskSummary[]): TaskStore {
  if (tasks.length === 0) return store;
  const byId = new Map(store.byId);
  const touched = new Set<string>();
  for (const raw of tasks) {
    const t: TaskSummary = { ...raw, retry_no: retryOf(raw) };
    byId.set(t.id, t);
    touched.add(t.name);
  }
  const byName = new Map(store.byName);
  if (touched.size > 50) {
    // A big batch (the first event): rebuild in one pass.
    for (const n of touched) byName.delete(n);
    for (const t of byId.values()) {
      if (!touched.has(t.name)) continue;
      const e = byName.get(t.name);
      if (!e) byName.set(t.name, { latest: t, count: 1 });
      else byName.set(t.name, { latest: newer(t, e.latest) ? t : e.latest, count: e.count + 1 });
    }
  } else {
    for (const name of touched) {
      let latest: TaskSummary | null = null;
      let count = 0;
      for (const t of byId.values()) {
        if (t.name !== name) continue;
        count++;
        if (!latest || newer(t, latest)) latest = t;
      }
      if (latest) byName.set(name, { latest, count });
    }
  }
  return { byId, byName };
}
