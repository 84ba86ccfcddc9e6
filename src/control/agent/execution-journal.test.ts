import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ExecutionJournal } from './execution-journal.ts';

const dir = mkdtempSync(join(tmpdir(), 'kw-journal-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('journal: states survive a reopen, a torn last line is ignored', () => {
  const path = join(dir, 'a');
  const journal = new ExecutionJournal(path);
  journal.begin('x');
  journal.complete('x', 'success', { code: 0, message: 'ok' });
  journal.begin('y');
  journal.begin('z');
  journal.complete('z', 'failure', { message: 'no' });
  journal.acknowledge('z');
  journal.close();
  appendFileSync(join(path, 'executed.jsonl'), '{"id":"w","sta');
  const reopened = new ExecutionJournal(path);
  assert.deepEqual(reopened.get('x'), {
    id: 'x',
    state: 'done',
    status: 'success',
    result: { code: 0, message: 'ok' },
  });
  assert.equal(reopened.get('y')?.state, 'started');
  assert.deepEqual(reopened.get('z'), {
    id: 'z',
    state: 'acked',
    status: 'failure',
    result: { message: 'no' },
  });
  assert.equal(reopened.get('w'), undefined);
  assert.deepEqual(
    reopened
      .unacknowledged()
      .map((e) => e.id)
      .sort(),
    ['x', 'y'],
  );
  reopened.close();
});

test('journal: compaction keeps the newest entries and bounds the file', () => {
  const path = join(dir, 'b');
  const journal = new ExecutionJournal(path, { maxEntries: 10 });
  for (let i = 0; i < 25; i += 1) {
    journal.begin(`c${i}`);
    journal.complete(`c${i}`, 'success', {});
  }
  journal.close();
  const lines = readFileSync(join(path, 'executed.jsonl'), 'utf8').trim().split('\n');
  assert.ok(lines.length <= 20, `${lines.length} lines`);
  const reopened = new ExecutionJournal(path, { maxEntries: 10 });
  assert.equal(reopened.get('c24')?.state, 'done');
  assert.equal(reopened.get('c0'), undefined);
  reopened.close();
});
