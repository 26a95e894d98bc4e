export const FINISHED = new Set(['SUCCESS', 'ERROR', 'CANCELLED']);
export const STATES = ['RUNNING', 'SUCCESS', 'ERROR', 'PAUSED', 'CANCELLED', 'IDLE'];

/** Bora's times are "YYYY-MM-DD HH:MM:SS" in UTC. */
export function parseTime(s: string | null | undefined): number | null {
  if (!s) return null;
  const t = Date.parse(s.replace(' ', 'T') + (s.endsWith('Z') ? '' : 'Z'));
  return Number.isNaN(t) ? null : t;
}

export function fmtDuration(ms: number | null): string {
  if (ms === null || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function duration(start: string | null | undefined, end: string | null | undefined, running: boolean): string {
  const a = parseTime(start);
  if (a === null) return '';
  const b = running ? Date.now() : parseTime(end);
  if (b === null) return '';
  return fmtDuration(b - a);
}

/** "2026-12-06T14:55" (datetime-local, taken as UTC) → "2026-12-06 14:55:00". */
export function localInputToApi(v: string): string {
  if (!v) return '';
  const [d, t = '00:00'] = v.split('T');
  const parts = t.split(':');
  while (parts.length < 3) parts.push('00');
  return `${d} ${parts.slice(0, 3).join(':')}`;
}

export function parseJsonText(text: string | null | undefined): { ok: boolean; value: unknown } {
  if (text === null || text === undefined) return { ok: true, value: null };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, value: text };
  }
}

export function shortId(id: string): string {
  return id.length > 8 ? id.slice(0, 8) : id;
}
