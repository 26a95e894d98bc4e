export interface Execution {
  id: string;
  workflow_name: string;
  workflow_id?: string;
  workflow_namespace?: string;
  description?: string;
  state: string;
  state_info?: string | null;
  created_at: string;
  updated_at: string;
  task_execution_id?: string | null;
  root_execution_id?: string | null;
  input?: string;
  output?: string;
  params?: string;
}

export interface ItemsProgress {
  total: number;
  success: number;
  error: number;
  running: number;
}

/** A task execution as the stream's `tasks` event summarises it. */
export interface TaskSummary {
  id: string;
  name: string;
  state: string;
  state_info?: string | null;
  type?: string;
  created_at: string;
  started_at?: string | null;
  finished_at?: string | null;
  updated_at?: string;
  retry_no?: number;
  actions?: number;
  items?: ItemsProgress | null;
  sub_executions?: string[];
  worker_pool?: string|null;  // an external action: the pool of its workers (worker API)
  runtime_context?: string;
}

/** GET /v2/workers */
export interface WorkersReply {
  workers: {worker: string; pool: string; actions: string[]; last_seen: string}[];
  pools: {pool: string; queued: number; leased: number}[];
}

export interface TaskRecord extends TaskSummary {
  workflow_execution_id?: string;
  runtime_context?: string;
  result?: string;
  published?: string;
}

export interface ActionExecution {
  id: string;
  name: string;
  state: string;
  state_info?: string | null;
  accepted?: boolean;
  input?: string;
  output?: string;
  created_at?: string;
  updated_at?: string;
}

export interface Item {
  index: number;
  action_execution_id: string;
  name: string;
  state: string;
  state_info?: string | null;
  accepted?: boolean;
  attempt?: number;
  is_workflow?: boolean;
  created_at?: string;
  updated_at?: string;
}

export interface GraphNode {
  id: string;
  kind: string; // task | fail | succeed | pause | noop
  task: string | null;
  action?: string | null;
  workflow?: string | null;
  join?: null | string | number;
  with_items?: boolean;
  retry?: boolean;
  line?: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: string;
  condition?: string | null;
}

export interface Graph {
  workflow: string;
  namespace?: string;
  type?: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface WorkflowDef {
  id: string;
  name: string;
  namespace?: string;
  input?: string;
  definition?: string;
  tags?: string[];
  scope?: string;
  created_at?: string;
  updated_at?: string;
}

export interface ValidationResult {
  valid: boolean;
  error?: string | null;
  errors?: { line?: number; column?: number; message: string; workflow?: string; task?: string }[];
}
