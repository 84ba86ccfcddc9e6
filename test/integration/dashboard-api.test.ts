/**
 * The dashboard's read APIs through a real `keepwire serve`: the watcher's
 * history, the ledger, the pipeline, the sysctl audit and the event stream,
 * each behind the admin token; the page itself with its
 * Content-Security-Policy.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServeProcess, startServe } from '../support/keepwire-process.ts';

let serve: ServeProcess;
before(async () => {
  serve = await startServe({ env: { KEEPWIRE_WATCH__INTERVAL_MS: '200' } });
});
after(() => serve.stop());

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, checked field by field
type Json = any;

const auth = () => ({ authorization: `Bearer ${serve.adminToken}` });

async function get(path: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${serve.adminUrl}${path}`, { headers: auth() });
  return { status: response.status, body: await response.json() };
}

async function waitFor<T>(check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('every dashboard API answers 401 without the admin token', async () => {
  for (const path of [
    '/v1/sockets/history',
    '/v1/ledger',
    '/v1/pipeline',
    '/v1/pipeline/history',
    '/v1/sysctl',
    '/v1/events',
  ]) {
    const response = await fetch(`${serve.adminUrl}${path}`);
    assert.equal(response.status, 401, path);
    assert.equal(((await response.json()) as Json).error.code, 'UNAUTHORIZED', path);
  }
});

test('GET /v1/sockets/history: per-sample state counts, oldest first, bounded', async () => {
  const history = await waitFor(async () => {
    const { status, body } = await get('/v1/sockets/history');
    assert.equal(status, 200);
    return body.samples.length >= 3 ? body : undefined;
  }, 'three samples');
  assert.equal(history.intervalMs, 200);
  assert.equal(history.capacity, 720);
  const times = history.samples.map((s: { takenAt: string }) => Date.parse(s.takenAt));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  for (const sample of history.samples) {
    const sum = Object.values(sample.states as Record<string, number>).reduce((a, b) => a + b, 0);
    assert.equal(sum, sample.total);
    assert.ok(sample.states.LISTEN >= 1, 'the admin listener itself is in LISTEN');
  }
});

test('GET /v1/pipeline counts events in and out of the default file sink', async () => {
  const events = `http://${readFileSync(join(serve.dataDir, 'events.addr'), 'utf8').trim()}`;
  const body = '{"n":1}\n{"n":2}\n{"n":3}\n';
  const posted = await fetch(`${events}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body,
  });
  assert.deepEqual([posted.status, await posted.json()], [200, { accepted: 3 }]);
  const pipeline = await waitFor(async () => {
    const { body } = await get('/v1/pipeline');
    const sink = body.sinks.find((s: { sink: string }) => s.sink === 'out');
    return sink?.sent === 3 ? body : undefined;
  }, 'three events sent');
  const source = pipeline.sources.find((s: { source: string }) => s.source === 'events');
  assert.equal(source.received, 3);
  assert.equal(source.receivedBytes, Buffer.byteLength(body) - 3);
  const sink = pipeline.sinks.find((s: { sink: string }) => s.sink === 'out');
  assert.equal(sink.bufferEvents, 0);
  assert.equal(sink.deadLettered, 0);
  assert.deepEqual(pipeline.endpoints, []);
});

test('GET /v1/pipeline/history: counters per sample on the watcher cadence, oldest first', async () => {
  const events = `http://${readFileSync(join(serve.dataDir, 'events.addr'), 'utf8').trim()}`;
  const before = (await get('/v1/pipeline/history')).body;
  assert.equal(before.intervalMs, 200);
  assert.equal(before.capacity, 720);
  // The live counter, not the last sample: a sample may predate events sent
  // by the tests before this one.
  const live = (await get('/v1/pipeline')).body;
  const sentBefore = live.sinks.find((s: { sink: string }) => s.sink === 'out')?.sent ?? 0;
  const posted = await fetch(`${events}/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-ndjson' },
    body: '{"h":1}\n{"h":2}\n',
  });
  assert.equal(posted.status, 200);
  // A later sample holds the two new events as sent; the ones before did not.
  const history = await waitFor(async () => {
    const { status, body } = await get('/v1/pipeline/history');
    assert.equal(status, 200);
    return body.samples.at(-1)?.sinks.out?.sent === sentBefore + 2 ? body : undefined;
  }, 'a sample with the two events sent');
  const times = history.samples.map((s: { takenAt: string }) => Date.parse(s.takenAt));
  assert.deepEqual(
    times,
    [...times].sort((a, b) => a - b),
  );
  const sent = history.samples.map((s: Json) => s.sinks.out?.sent ?? 0);
  assert.deepEqual(
    sent,
    [...sent].sort((a, b) => a - b),
    'counters never go back',
  );
  const last = history.samples.at(-1);
  assert.ok(last.sources.events.received >= 2);
  assert.equal(last.sources.events.rejected, 0);
  assert.equal(last.sinks.out.deadLettered, 0);
});

test('GET /v1/ledger and GET /v1/sysctl answer their shapes', async () => {
  const ledger = await get('/v1/ledger');
  assert.equal(ledger.status, 200);
  assert.ok(Array.isArray(ledger.body.sinks));
  const sysctl = await get('/v1/sysctl');
  assert.equal(sysctl.status, 200);
  const names = sysctl.body.checks.map((c: { name: string }) => c.name);
  assert.ok(names.includes('net.ipv4.ip_local_port_range'), names.join(','));
});

test('GET /v1/events pushes a sample event per watcher sample and a commands event', async () => {
  const controller = new AbortController();
  const response = await fetch(`${serve.adminUrl}/v1/events`, {
    headers: auth(),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = '';
  const seen = new Map<string, Json[]>();
  const readUntil = async (done: () => boolean) => {
    while (!done()) {
      const chunk = await reader.read();
      assert.equal(chunk.done, false, 'the stream stayed open');
      text += chunk.value;
      let end = text.indexOf('\n\n');
      while (end !== -1) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (event && data) seen.set(event, [...(seen.get(event) ?? []), JSON.parse(data)]);
        end = text.indexOf('\n\n');
      }
    }
  };
  await readUntil(() => (seen.get('sample')?.length ?? 0) >= 2);
  const [first, second] = seen.get('sample')!;
  assert.ok(second.samples > first.samples);
  assert.ok(second.states.LISTEN >= 1);
  // The first poll reports the current command counts; a new command moves them.
  await readUntil(() => seen.has('commands'));
  const agent = await fetch(`${serve.adminUrl}/v1/agents`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'events-test' }),
  }).then((r) => r.json() as Promise<Json>);
  const created = await fetch(`${serve.adminUrl}/v1/commands`, {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ target: { type: 'agent', id: agent.id }, action: { name: 'ping' } }),
  });
  assert.equal(created.status, 201);
  await readUntil(() => seen.get('commands')!.some((c) => (c.transitions.pending ?? 0) >= 1));
  controller.abort();
});

test('GET / serves the page with a strict Content-Security-Policy, and its assets', async () => {
  const page = await fetch(`${serve.adminUrl}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  const html = await page.text();
  assert.match(html, /Admin token/);
  for (const src of html.matchAll(/(?:src|href)="([^"]+)"/g)) {
    assert.ok(src[1]!.startsWith('/dashboard/'), `asset ${src[1]} is served by keepwire`);
    const asset = await fetch(`${serve.adminUrl}${src[1]}`);
    assert.equal(asset.status, 200, src[1]);
  }
});

test('an open event stream ends when serve stops, and the stop is clean', async () => {
  const response = await fetch(`${serve.adminUrl}/v1/events`, { headers: auth() });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  await reader.read(); // the opening comment: the stream is established
  assert.equal(await serve.stop(), 0, serve.stderr());
  let ended = false;
  while (!ended) {
    const chunk = await reader.read().catch(() => ({ done: true }));
    ended = chunk.done === true;
  }
});
