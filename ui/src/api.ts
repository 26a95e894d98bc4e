import { SseParser, type SseEvent } from './sse';

const TOKEN_KEY = 'bora.token';

export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

// --- 401 handling: the App shows a token form while a request waits for a token -------------------
type Waiter = () => void;
let waiters: Waiter[] = [];
const tokenListeners = new Set<(needed: boolean) => void>();

export function onTokenNeeded(fn: (needed: boolean) => void): () => void {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

function waitForToken(): Promise<void> {
  return new Promise((resolve) => {
    waiters.push(resolve);
    tokenListeners.forEach((fn) => fn(true));
  });
}

export function setToken(token: string): void {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    /* storage unavailable: keep going without */
  }
  const w = waiters;
  waiters = [];
  tokenListeners.forEach((fn) => fn(false));
  w.forEach((r) => r());
}

function headers(extra?: Record<string, string>): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json', ...extra };
  const t = getToken();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function faultOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const j = JSON.parse(text);
    if (j && typeof j.faultstring === 'string') return j.faultstring;
  } catch {
    /* not JSON */
  }
  return text ? text.slice(0, 500) : `${res.status} ${res.statusText}`;
}

export interface RequestOptions {
  body?: unknown;
  text?: string; // a text/plain body (YAML)
  signal?: AbortSignal;
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  for (;;) {
    const extra: Record<string, string> = {};
    let body: string | undefined;
    if (opts.text !== undefined) {
      extra['Content-Type'] = 'text/plain';
      body = opts.text;
    } else if (opts.body !== undefined) {
      extra['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(path, { method, headers: headers(extra), body, signal: opts.signal });
    if (res.status === 401) {
      await waitForToken();
      continue;
    }
    if (!res.ok) throw new ApiError(res.status, await faultOf(res));
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
}

export const get = <T>(path: string, signal?: AbortSignal) => request<T>('GET', path, { signal });
export const put = <T>(path: string, body: unknown) => request<T>('PUT', path, { body });
export const post = <T>(path: string, body: unknown) => request<T>('POST', path, { body });

export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/**
 * Follows an event stream (fetch + reader, so the Authorization header goes along). Calls onEvent for
 * each event; resolves when the server closes the stream. Rejects with ApiError on an HTTP error.
 */
export async function readStream(path: string, onEvent: (e: SseEvent) => void, signal: AbortSignal): Promise<void> {
  for (;;) {
    const res = await fetch(path, { headers: headers({ Accept: 'text/event-stream' }), signal });
    if (res.status === 401) {
      await waitForToken();
      continue;
    }
    if (!res.ok || !res.body) throw new ApiError(res.status, await faultOf(res));
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const ev of parser.push(decoder.decode(value, { stream: true }))) onEvent(ev);
    }
    return;
  }
}
