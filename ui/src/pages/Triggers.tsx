import { useEffect, useState } from 'preact/hooks';
import { errorText, get } from '../api';
import { ErrorBox, Link, Loading } from '../components/common';

interface Cron {
  name: string;
  pattern: string;
  workflow_name: string;
  workflow_input?: string;
  first_execution_time?: string | null;
  next_execution_time?: string | null;
  remaining_executions?: number | null;
  created_at?: string;
}
interface EventTrigger {
  id: string;
  name: string;
  workflow_id: string;
  exchange: string;
  topic: string;
  event: string;
  workflow_input?: string;
}

export function TriggersPage() {
  const [cron, setCron] = useState<Cron[] | null>(null);
  const [events, setEvents] = useState<EventTrigger[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<{ cron_triggers: Cron[] }>('/v2/cron_triggers').then((r) => setCron(r.cron_triggers), (e) => setError(errorText(e)));
    get<{ event_triggers: EventTrigger[] }>('/v2/event_triggers').then((r) => setEvents(r.event_triggers), (e) => setError(errorText(e)));
  }, []);
  return (
    <div class="page">
      <h1>Triggers</h1>
      <ErrorBox error={error} />
      <h2>Cron triggers</h2>
      {!cron ? (
        <Loading />
      ) : cron.length === 0 ? (
        <p class="muted">No cron triggers.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Pattern</th>
              <th>Workflow</th>
              <th>Next fire (UTC)</th>
              <th>Remaining</th>
              <th>Input</th>
            </tr>
          </thead>
          <tbody>
            {cron.map((c) => (
              <tr data-testid="cron-row" data-name={c.name}>
                <td>{c.name}</td>
                <td class="mono">{c.pattern}</td>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(c.workflow_name)}`}>{c.workflow_name}</Link>
                </td>
                <td class="nowrap">{c.next_execution_time ?? '–'}</td>
                <td>{c.remaining_executions ?? '∞'}</td>
                <td class="mono small">{c.workflow_input}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>Event triggers</h2>
      {!events ? (
        <Loading />
      ) : events.length === 0 ? (
        <p class="muted">No event triggers.</p>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Workflow</th>
              <th>Exchange</th>
              <th>Topic</th>
              <th>Event</th>
              <th>Input</th>
            </tr>
          </thead>
          <tbody>
            {events.map((t) => (
              <tr data-testid="event-trigger-row" data-name={t.name}>
                <td>{t.name}</td>
                <td>
                  <Link to={`/workflows/${encodeURIComponent(t.workflow_id)}`}>{t.workflow_id}</Link>
                </td>
                <td>{t.exchange}</td>
                <td>{t.topic}</td>
                <td>{t.event}</td>
                <td class="mono small">{t.workflow_input}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
