import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../src/sse';
import { fieldValue, parseInputSpec } from '../src/inputspec';
import { emptyStore, mergeTasks } from '../src/tasks';
import { localInputToApi, parseTime, fmtDuration } from '../src/util';
import type { TaskSummary } from '../src/types';

test('SSE: events split across chunks, comments, CRLF, multi-line data', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': keep-alive\n\nevent: exec'), []);
  assert.deepEqual(p.push('ution\ndata: {"a":'), []);
  assert.deepEqual(p.push('1}\n\n'), [{ event: 'execution', data: '{"a":1}' }]);
  assert.deepEqual(p.push('event: tasks\r\ndata: x\r\ndata: y\r\n\r\n'), [{ event: 'tasks', data: 'x\ny' }]);
  assert.deepEqual(p.push('data: plain\r'), []);
  assert.deepEqual(p.push('\n\r\n'), [{ event: 'message', data: 'plain' }]);
  assert.deepEqual(p.push('event: end\ndata:{"state":"SUCCESS"}\n\n'), [{ event: 'end', data: '{"state":"SUCCESS"}' }]);
});

test('input spec: required, defaults, nested commas and quotes', () => {
  assert.deepEqual(parseInputSpec(`a, b=1, c='x', d=[1, 2], e="p, q", f={"k": [1, 2]}`), [
    { name: 'a', required: true, defaultText: '' },
    { name: 'b', required: false, defaultText: '1' },
    { name: 'c', required: false, defaultText: `'x'` },
    { name: 'd', required: false, defaultText: '[1, 2]' },
    { name: 'e', required: false, defaultText: '"p, q"' },
    { name: 'f', required: false, defaultText: '{"k": [1, 2]}' },
  ]);
  assert.deepEqual(parseInputSpec(''), []);
  assert.equal(fieldValue('1'), 1);
  assert.deepEqual(fieldValue('[1,"a"]'), [1, 'a']);
  assert.equal(fieldValue('true'), true);
  assert.equal(fieldValue('hello world'), 'hello world');
  assert.equal(fieldValue(`'quoted'`), 'quoted');
  assert.equal(fieldValue('"s"'), 's');
});

const t = (id: string, name: string, state: string, created_at: string, extra: Partial<TaskSummary> = {}): TaskSummary => ({
  id,
  name,
  state,
  created_at,
  ...extra,
});

test('tasks: merge by id, newest per name, loop count, retry from runtime_context', () => {
  let s = mergeTasks(emptyStore(), [
    t('1', 'a', 'SUCCESS', '2026-12-06 10:00:00'),
    t('2', 'b', 'RUNNING', '2026-12-06 10:00:01', { runtime_context: '{"retry_task_policy": {"retry_no": 2}}' }),
  ]);
  assert.equal(s.byName.get('b')!.latest.retry_no, 2);
  const before = s.byName.get('a');
  s = mergeTasks(s, [t('2', 'b', 'SUCCESS', '2026-12-06 10:00:01', { retry_no: 0 }), t('3', 'b', 'RUNNING', '2026-12-06 10:00:05')]);
  assert.equal(s.byId.size, 3);
  assert.equal(s.byName.get('b')!.count, 2);
  assert.equal(s.byName.get('b')!.latest.id, '3');
  assert.equal(s.byName.get('a'), before, 'an untouched name keeps its entry (memoised nodes do not re-render)');
  // A big first batch takes the one-pass path.
  const many: TaskSummary[] = [];
  for (let i = 0; i < 120; i++) many.push(t(`x${i}`, `n${i % 60}`, 'SUCCESS', `2026-12-06 10:00:${String(i % 60).padStart(2, '0')}`));
  const s2 = mergeTasks(emptyStore(), many);
  assert.equal(s2.byName.size, 60);
  assert.equal(s2.byName.get('n0')!.count, 2);
});

test('times', () => {
  assert.equal(parseTime('2026-12-06 14:55:40'), Date.UTC(2026, 11, 6, 14, 55, 40));
  assert.equal(parseTime(null), null);
  assert.equal(localInputToApi('2026-12-06T14:55'), '2026-12-06 14:55:00');
  assert.equal(fmtDuration(65_000), '1m 5s');
  assert.equal(fmtDuration(3_600_000 * 3 + 60_000), '3h 1m');
});
