import type { ComponentChildren } from 'preact';
import { href, onLinkClick } from '../router';

export function Link(props: { to: string; class?: string; children: ComponentChildren; title?: string; testid?: string }) {
  return (
    <a
      href={href(props.to)}
      class={props.class}
      title={props.title}
      data-testid={props.testid}
      onClick={(e) => onLinkClick(e as unknown as MouseEvent, props.to)}
    >
      {props.children}
    </a>
  );
}

export function StateBadge(props: { state: string; testid?: string }) {
  const s = props.state || 'NOT_RUN';
  return (
    <span class={`badge state-${s}`} data-testid={props.testid}>
      {s}
    </span>
  );
}

export function ErrorBox(props: { error: string | null | undefined; onClose?: () => void }) {
  if (!props.error) return null;
  return (
    <div class="error-box" role="alert" data-testid="error">
      <span>{props.error}</span>
      {props.onClose && (
        <button class="link-button" onClick={props.onClose}>
          dismiss
        </button>
      )}
    </div>
  );
}

export function Loading(props: { what?: string }) {
  return <div class="loading">Loading{props.what ? ` ${props.what}` : ''}…</div>;
}

/** Text with the case-insensitive matches of `q` wrapped in <mark> (as text nodes, never HTML). */
export function Highlight(props: { text: string; q: string }) {
  const { text, q } = props;
  if (!q) return <>{text}</>;
  const lower = text.toLowerCase();
  const ql = q.toLowerCase();
  const parts: ComponentChildren[] = [];
  let i = 0;
  let n = 0;
  for (;;) {
    const j = lower.indexOf(ql, i);
    if (j < 0 || n > 50) break;
    if (j > i) parts.push(text.slice(i, j));
    parts.push(<mark>{text.slice(j, j + q.length)}</mark>);
    i = j + q.length;
    n++;
  }
  parts.push(text.slice(i));
  return <>{parts}</>;
}
