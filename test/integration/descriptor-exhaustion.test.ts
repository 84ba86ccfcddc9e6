/**
 * Descriptor exhaustion survived: `keepwire serve` under `ulimit -n 256` with
 * 300 idle connections to its event intake refuses what it cannot accept,
 * stays up, counts it, logs one line, and serves again once they leave.
 * (The watcher's `ss` failing with EMFILE used to be an unhandled 'error'
 * event that ended the process.)
 */
import assert from 'node:assert/strict';
import { Agent, get } from 'node:http';
import { test } from 'node:test';
import { startServe } from '../support/keepwire-process.ts';
import {
  listenerAddress,
  metricValue,
  type OpenSocket,
  openSocket,
  waitFor,
} from '../support/raw-socket.ts';

const LOG_LINE = /the descriptor limit is reached/;
const LOG_LINES = /the descriptor limit is reached/g;
const EXHAUSTED = 'keepwire_descriptor_exhaustion_total{where="watch"}';
/** One kept-alive connection to the admin listener, opened before the flood. */
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function adminGet(base: string, path: string, via: Agent): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}${path}`, { agent: via }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        response.statusCode === 200
          ? resolve(body)
          : reject(new Error(`${path}: ${response.statusCode} ${body}`)),
      );
    });
    request.on('error', reject);
  });
}

test('serve survives descriptor exhaustion: refuses, stays up, one log line, resumes', async () => {
  const server = await startServe({
    maxDescriptors: 256,
    env: { KEEPWIRE_WATCH__INTERVAL_MS: '200' },
  });
  const sockets: OpenSocket[] = [];
  try {
    const events = listenerAddress(server.dataDir, 'events');
    await adminGet(server.adminUrl, '/healthz', agent);
    for (let i = 0; i < 300; i++) sockets.push(openSocket(events));
    // Over the limit libuv accepts and closes at once: some of ours are refused.
    await Promise.race(sockets.map((open) => open.closed));
    // Several samples of the watcher meet EMFILE while the connections stay.
    // Generous: on a loaded host one sample can take seconds.
    await waitFor('the exhaustion log line', () => LOG_LINE.test(server.stderr()), 90_000);
    // A connection opened before the flood still answers: the watcher keeps
    // meeting EMFILE, each time counted, the log keeps its one line.
    await waitFor('three samples under exhaustion', async () => {
      const metrics = await adminGet(server.adminUrl, '/metrics', agent);
      return metricValue(metrics, EXHAUSTED) >= 3;
    });
    assert.equal(server.child.exitCode, null, 'serve is still running');

    for (const open of sockets) open.socket.destroy();
    await waitFor('the admin listener to answer again', async () => {
      try {
        return (await fetch(`${server.adminUrl}/healthz`)).status === 200;
      } catch {
        return false;
      }
    });
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    assert.ok(metricValue(metrics, EXHAUSTED) >= 3);
    const intake = await fetch(`http://${events.host}:${events.port}/v1/events`, {
      method: 'POST',
      body: '{"a":1}\n',
    });
    assert.equal(intake.status, 200);
    assert.equal(server.stderr().match(LOG_LINES)?.length, 1, server.stderr());
    assert.doesNotMatch(server.stderr(), /Unhandled 'error' event|EMFILE\n\s+at /);
  } finally {
    for (const open of sockets) open.socket.destroy();
    agent.destroy();
    assert.equal(await server.stop(), 0);
  }
});
