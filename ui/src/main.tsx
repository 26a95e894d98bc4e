import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { onTokenNeeded } from './api';
import { match, useLocation } from './router';
import { Link } from './components/common';
import { TokenForm } from './components/TokenForm';
import { ExecutionsPage } from './pages/Executions';
import { ExecutionPage } from './pages/Execution';
import { StartPage } from './pages/Start';
import { DefinitionsPage, DefinitionPage } from './pages/Definitions';
import { TriggersPage } from './pages/Triggers';

function Nav(props: { path: string }) {
  const items: [string, string][] = [
    ['/executions', 'Executions'],
    ['/workflows', 'Workflows'],
    ['/workbooks', 'Workbooks'],
    ['/triggers', 'Triggers'],
  ];
  const active = (p: string) => props.path.startsWith(p) || (p === '/executions' && (props.path === '/' || props.path.startsWith('/start')));
  return (
    <header class="topbar">
      <Link to="/executions" class="brand">
        Bora
      </Link>
      <nav>
        {items.map(([p, label]) => (
          <Link to={p} class={active(p) ? 'active' : ''} testid={`nav-${label.toLowerCase()}`}>
            {label}
          </Link>
        ))}
      </nav>
    </header>
  );
}

function Routes() {
  const loc = useLocation();
  const p = loc.path;
  let page;
  let m: Record<string, string> | null;
  if (p === '/' || p === '/executions') page = <ExecutionsPage query={loc.query} />;
  else if ((m = match('/executions/:id', p))) page = <ExecutionPage id={m.id} taskId={null} />;
  else if ((m = match('/executions/:id/tasks/:task', p))) page = <ExecutionPage id={m.id} taskId={m.task} />;
  else if (p === '/start') page = <StartPage workflow={loc.query.get('workflow') ?? ''} />;
  else if (p === '/workflows') page = <DefinitionsPage kind="workflows" />;
  else if ((m = match('/workflows/:name', p))) page = <DefinitionPage kind="workflows" name={m.name} />;
  else if (p === '/workbooks') page = <DefinitionsPage kind="workbooks" />;
  else if ((m = match('/workbooks/:name', p))) page = <DefinitionPage kind="workbooks" name={m.name} />;
  else if (p === '/triggers') page = <TriggersPage />;
  else
    page = (
      <div class="page">
        <h1>Not found</h1>
        <p>
          No page at <code>{p}</code>. <Link to="/executions">Executions</Link>
        </p>
      </div>
    );
  return (
    <>
      <Nav path={p} />
      <main>{page}</main>
    </>
  );
}

function App() {
  const [needToken, setNeedToken] = useState(false);
  useEffect(() => onTokenNeeded(setNeedToken), []);
  return (
    <>
      <Routes />
      {needToken && <TokenForm />}
    </>
  );
}

render(<App />, document.getElementById('app')!);
