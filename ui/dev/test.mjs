// Unit tests of the browser-free modules (SSE parser, input spec, task store, times): esbuild (Vite's) turns
// test/*.test.ts into plain JS in a temp folder, then node's test runner runs them. `npm test`.
import { build } from 'esbuild';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = mkdtempSync(join(tmpdir(), 'bora-ui-test-'));
try {
  const entries = readdirSync('test').filter((f) => f.endsWith('.test.ts')).map((f) => join('test', f));
  await build({ entryPoints: entries, outdir: dir, bundle: true, platform: 'node', format: 'esm', outExtension: { '.js': '.mjs' }, logLevel: 'warning' });
  const files = readdirSync(dir).map((f) => join(dir, f));
  const r = spawnSync(process.execPath, ['--test', ...files], { stdio: 'inherit' });
  process.exitCode = r.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
