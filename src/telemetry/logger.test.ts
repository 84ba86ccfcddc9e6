import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger, type LoggerOptions } from './logger.ts';
import { formatPretty } from './pretty-log.ts';

function logOnce(options: LoggerOptions, isTerminal: boolean): string {
  let written = '';
  const logger = createLogger(
    options,
    {
      write: (line: string) => {
        written += line;
      },
    },
    isTerminal,
  );
  logger.info({ sink: 'out', events: 3 }, 'batch sent');
  return written;
}

test('log.format: auto is JSON off a terminal and human-readable on one; json and pretty are fixed', () => {
  const isJson = (text: string) => JSON.parse(text).msg === 'batch sent';
  assert.ok(isJson(logOnce({ level: 'info', format: 'auto' }, false)));
  assert.ok(isJson(logOnce({ level: 'info' }, false)), 'auto is the default');
  assert.ok(isJson(logOnce({ level: 'info', format: 'json' }, true)));
  const pretty = /^\d\d:\d\d:\d\d\.\d{3} .*INFO.* batch sent {2}sink=out events=3\n$/;
  assert.match(logOnce({ level: 'info', format: 'auto' }, true), pretty);
  assert.match(logOnce({ level: 'info', format: 'pretty' }, false), pretty);
  assert.ok(
    !logOnce({ level: 'info', format: 'pretty' }, false).includes('\u001b'),
    'colour only on a terminal',
  );
});

test('pretty lines quote values with spaces and indent an error stack', () => {
  const line = JSON.stringify({
    level: 50,
    time: '2026-12-01T05:00:00.123Z',
    pid: 1,
    msg: 'batch send failed; retrying',
    where: 'a b',
    err: { message: 'boom', stack: 'Error: boom\n    at x' },
  });
  assert.equal(
    formatPretty(line),
    '05:00:00.123 ERROR batch send failed; retrying  where="a b"\n    Error: boom\n        at x\n',
  );
  assert.equal(formatPretty('not json'), 'not json\n');
});
