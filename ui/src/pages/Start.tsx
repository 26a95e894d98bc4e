import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorText, get, post } from '../api';
import { navigate } from '../router';
import { ErrorBox } from '../components/common';
import { fieldValue, parseInputSpec } from '../inputspec';
import type { Execution, WorkflowDef } from '../types';

export function StartPage(props: { workflow: string }) {
  const [workflows, setWorkflows] = useState<WorkflowDef[] | null>(null);
  const [name, setName] = useState(props.workflow);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [raw, setRaw] = useState('');
  const [useRaw, setUseRaw] = useState(false);
  const [description, setDescription] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<{ workflows: WorkflowDef[] }>('/v2/workflows').then(
      (r) => setWorkflows(r.workflows.sort((a, b) => a.name.localeCompare(b.name))),
      (e) => setError(errorText(e)),
    );
  }, []);
  useEffect(() => setName(props.workflow), [props.workflow]);

  const wf = workflows?.find((w) => w.name === name || w.id === name) ?? null;
  const params = useMemo(() => parseInputSpec(wf?.input), [wf?.input]);
  useEffect(() => {
    setFields({});
    setUseRaw(false);
  }, [wf?.id]);

  const formInput = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const p of params) {
      const v = fields[p.name];
      if (v === undefined || v === '') continue;
      out[p.name] = fieldValue(v);
    }
    return out;
  };

  useEffect(() => {
    if (!useRaw) setRaw(JSON.stringify(formInput(), null, 2));
  }, [fields, params, useRaw]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!wf) return;
    let input: unknown;
    if (useRaw) {
      try {
        input = raw.trim() ? JSON.parse(raw) : {};
      } catch (err) {
        setError(`Input is not valid JSON: ${errorText(err)}`);
        return;
      }
    } else {
      const missing = params.filter((p) => p.required && !(fields[p.name] ?? '').trim()).map((p) => p.name);
      if (missing.length) {
        setError(`Required: ${missing.join(', ')}`);
        return;
      }
      input = formInput();
    }
    setBusy(true);
    setError(null);
    try {
      const ex = await post<Execution>('/v2/executions', {
        workflow_name: wf.name,
        workflow_namespace: wf.namespace ?? '',
        input,
        description,
      });
      navigate(`/executions/${ex.id}`);
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <h1>Start execution</h1>
      <form class="start-form" onSubmit={submit}>
        <label>
          Workflow
          <select
            data-testid="start-workflow"
            value={wf?.name ?? ''}
            onChange={(e) => navigate('/start?workflow=' + encodeURIComponent((e.target as HTMLSelectElement).value), { replace: true })}
          >
            <option value="">{workflows ? '— pick a workflow —' : 'loading…'}</option>
            {workflows?.map((w) => (
              <option value={w.name}>
                {w.name}
                {w.namespace ? ` (${w.namespace})` : ''}
              </option>
            ))}
          </select>
        </label>
        {wf && (
          <>
            <fieldset disabled={useRaw}>
              <legend>Input {wf.input ? <code class="muted">{wf.input}</code> : <span class="muted">(none)</span>}</legend>
              {params.map((p) => (
                <label>
                  <span>
                    {p.name}
                    {p.required ? <span class="req"> *</span> : <span class="muted"> = {p.defaultText}</span>}
                  </span>
                  <input
                    data-testid={`input-${p.name}`}
                    value={fields[p.name] ?? ''}
                    placeholder={p.required ? 'required (JSON or text)' : `default ${p.defaultText}`}
                    onInput={(e) => setFields({ ...fields, [p.name]: (e.target as HTMLInputElement).value })}
                  />
                </label>
              ))}
              <p class="muted small">Values are read as JSON when they parse (1, true, [1,2], {'{"a":1}'}, "text"), else as text. Empty fields take the default.</p>
            </fieldset>
            <label class="inline">
              <input type="checkbox" data-testid="start-raw-toggle" checked={useRaw} onChange={(e) => setUseRaw((e.target as HTMLInputElement).checked)} /> edit the input as raw JSON
            </label>
            <textarea data-testid="start-raw" class="code" rows={8} value={raw} readOnly={!useRaw} onInput={(e) => setRaw((e.target as HTMLTextAreaElement).value)} />
            <label>
              Description
              <input data-testid="start-description" value={description} onInput={(e) => setDescription((e.target as HTMLInputElement).value)} />
            </label>
          </>
        )}
        <ErrorBox error={error} />
        <div class="row">
          <button type="submit" class="primary" data-testid="start-submit" disabled={!wf || busy}>
            Start
          </button>
        </div>
      </form>
    </div>
  );
}
