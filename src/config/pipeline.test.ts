import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigInvalidError, loadConfig } from './index.ts';
import { withEventsListen } from './pipeline.ts';

test('the embedded default: http source on 8682 routed to a file sink with a disk buffer', () => {
  const { pipeline } = loadConfig({ env: {} });
  assert.equal(pipeline.sources.events?.type, 'http');
  assert.deepEqual(pipeline.sources.events?.type === 'http' && pipeline.sources.events.listen, {
    host: '127.0.0.1',
    port: 8682,
  });
  assert.equal(pipeline.sinks.out?.type, 'file');
  assert.equal(pipeline.sinks.out?.buffer.type, 'disk');
  assert.deepEqual(pipeline.routes, { events: ['out'] });
  const moved = withEventsListen(loadConfig({ env: {} }), { host: '127.0.0.1', port: 0 });
  assert.equal(
    moved.pipeline.sources.events?.type === 'http' && moved.pipeline.sources.events.listen.port,
    0,
  );
});

test('routes naming a missing source or sink fail with the field named', () => {
  const env = {
    KEEPWIRE_PIPELINE__SOURCES__IN__TYPE: 'unix',
    KEEPWIRE_PIPELINE__SINKS__DROP__TYPE: 'blackhole',
    KEEPWIRE_PIPELINE__ROUTES__IN: '[nowhere]',
    KEEPWIRE_PIPELINE__ROUTES__GHOST: '[drop]',
  };
  assert.throws(
    () => loadConfig({ env }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigInvalidError);
      assert.match(error.message, /pipeline\.routes\.in\.0: no sink named "nowhere"/);
      assert.match(error.message, /pipeline\.routes\.ghost: no source named "ghost"/);
      return true;
    },
  );
  assert.throws(
    () => loadConfig({ env: { KEEPWIRE_PIPELINE__SOURCES__IN__TYPE: 'unix' } }),
    /pipeline\.routes\.in: source "in" has no route/,
  );
});

test('sinks and buffers are strict tagged unions with units in their names', () => {
  const env = {
    KEEPWIRE_PIPELINE__SOURCES__IN__TYPE: 'http',
    KEEPWIRE_PIPELINE__SINKS__C__TYPE: 'http',
    KEEPWIRE_PIPELINE__SINKS__C__URL: 'http://127.0.0.1:9/ingest',
    KEEPWIRE_PIPELINE__SINKS__C__BUFFER__TYPE: 'memory',
    KEEPWIRE_PIPELINE__SINKS__C__BUFFER__MAX_EVENTS: '10',
    KEEPWIRE_PIPELINE__ROUTES__IN: '[c]',
  };
  const { pipeline } = loadConfig({ env });
  assert.deepEqual(pipeline.sinks.c?.buffer, {
    type: 'memory',
    maxEvents: 10,
    whenFull: 'block',
    retryAfterMs: 1000,
  });
  assert.throws(
    () => loadConfig({ env: { ...env, KEEPWIRE_PIPELINE__SINKS__C__BUFFER__FSYNC: 'always' } }),
    /pipeline\.sinks\.c\.buffer/,
  );
});
