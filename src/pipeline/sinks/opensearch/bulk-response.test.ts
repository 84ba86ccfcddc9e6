import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BulkResponseInvalidError } from '../../errors.ts';
import { readBulkResponse } from './bulk-response.ts';

const answer = (value: unknown) => Buffer.from(JSON.stringify(value));

test('errors:false is every item indexed, without parsing', () => {
  const outcome = readBulkResponse(Buffer.from('{"took":3,"errors":false,"items":[{'), 3, 'create');
  assert.deepEqual(outcome, { indexed: 3, alreadyPresent: 0, retry: [], rejected: [] });
});

test('mixed item statuses: indexed, already present, retried, refused with the error', () => {
  const mapping = {
    type: 'mapper_parsing_exception',
    reason:
      "failed to parse field [http.response.status_code] of type [long] in document with id 'x'",
    caused_by: { type: 'illegal_argument_exception', reason: 'For input string: "abc"' },
  };
  const body = answer({
    errors: true,
    items: [
      { create: { status: 201 } },
      {
        create: {
          status: 409,
          error: {
            type: 'version_conflict_engine_exception',
            reason: '[a]: version conflict, document already exists (current version [1])',
          },
        },
      },
      {
        create: {
          status: 429,
          error: { type: 'es_rejected_execution_exception', reason: 'rejected execution' },
        },
      },
      { create: { status: 500, error: { type: 'exception', reason: 'boom' } } },
      {
        create: {
          status: 503,
          error: { type: 'unavailable_shards_exception', reason: 'primary shard is not active' },
        },
      },
      { create: { status: 400, error: mapping } },
      {
        create: {
          status: 404,
          error: { type: 'index_not_found_exception', reason: 'no such index [x]' },
        },
      },
      { create: { status: 200 } },
    ],
  });
  const outcome = readBulkResponse(body, 8, 'create');
  assert.equal(outcome.indexed, 2);
  assert.equal(outcome.alreadyPresent, 1);
  assert.deepEqual(outcome.retry, [2, 3, 4]);
  assert.deepEqual(
    outcome.rejected.map((item) => [item.index, item.status]),
    [
      [5, 400],
      [6, 404],
    ],
  );
  assert.match(
    outcome.rejected[0]!.reason,
    /400 mapper_parsing_exception: failed to parse field \[http\.response\.status_code\]/,
  );
  assert.deepEqual(JSON.parse(outcome.rejected[0]!.response!), mapping);
});

test('409 under the index action is a refusal, not a document already there', () => {
  const body = answer({
    errors: true,
    items: [
      { index: { status: 409, error: { type: 'version_conflict_engine_exception', reason: 'x' } } },
    ],
  });
  const outcome = readBulkResponse(body, 1, 'index');
  assert.equal(outcome.alreadyPresent, 0);
  assert.equal(outcome.rejected.length, 1);
});

test('answers that are not the protocol are invalid, never delivered', () => {
  for (const [body, count] of [
    [Buffer.from('<html>OK</html>'), 1],
    [answer({ acknowledged: true }), 1],
    [answer({ errors: true, items: [{ create: { status: 201 } }] }), 2],
    [answer({ errors: true, items: [{ create: {} }] }), 1],
    [answer({ errors: true, items: [7] }), 1],
    [Buffer.from('{"took":1,"errors":tr'), 1],
  ] as const) {
    assert.throws(
      () => readBulkResponse(body, count, 'create'),
      BulkResponseInvalidError,
      body.toString(),
    );
  }
});
