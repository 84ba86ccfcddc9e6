/**
 * The HTTP sink service against real servers: body encodings, compression,
 * headers and auth (a rotated token file), TLS with a private CA, and how
 * each answer or transport failure is classified.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { makeTestCertificates } from '../../../../test/support/test-certificates.ts';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { SinkRejectedError, SinkUnavailableError } from '../../errors.ts';
import { parseRetryAfter } from '../retry-after.ts';
import { TestCollector } from '../test-collector.ts';
import { httpSinkSchema } from './config.ts';
import { createHttpSinkService } from './index.ts';

const logger = createLogger({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'keepwire-http-sink-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const signal = new AbortController().signal;
const records = [Buffer.from('{"seq":1,"a":"x"}'), Buffer.from('{"seq":2,"b":[1,2]}')];

function sink(config: Record<string, unknown>) {
  return createHttpSinkService(httpSinkSchema.parse({ type: 'http', ...config }), {
    name: 't',
    concurrency: 2,
    registry: createRegistry({ processMetrics: false }),
    logger,
  });
}

async function withCollector(run: (collector: TestCollector) => Promise<void>): Promise<void> {
  const collector = await new TestCollector().start();
  try {
    await run(collector);
  } finally {
    await collector.close();
  }
}

describe('HTTP sink: bodies and headers', () => {
  for (const [encoding, compression] of [
    ['ndjson', 'none'],
    ['json', 'none'],
    ['ndjson', 'gzip'],
    ['json', 'zstd'],
  ] as const) {
    test(`${encoding} body, ${compression} compression`, () =>
      withCollector(async (collector) => {
        const service = sink({ url: `${collector.url}/in?x=1`, encoding, compression });
        await service.send(records, signal);
        await service.close();
        const [request] = collector.requests;
        assert.deepEqual(request!.events, [
          { seq: 1, a: 'x' },
          { seq: 2, b: [1, 2] },
        ]);
        assert.equal(
          request!.headers['content-type'],
          encoding === 'json' ? 'application/json' : 'application/x-ndjson',
        );
        assert.equal(
          request!.headers['content-encoding'],
          compression === 'none' ? undefined : compression,
        );
        if (encoding === 'ndjson' && compression === 'none') {
          assert.equal(request!.raw.toString(), '{"seq":1,"a":"x"}\n{"seq":2,"b":[1,2]}\n');
        }
      }));
  }

  test('custom headers and basic auth', () =>
    withCollector(async (collector) => {
      const service = sink({
        url: collector.url,
        headers: { 'X-Tenant': 'blue' },
        auth: { type: 'basic', user: 'ship', password: 's3cret' },
      });
      await service.send(records, signal);
      await service.close();
      const { headers } = collector.requests[0]!;
      assert.equal(headers['x-tenant'], 'blue');
      assert.equal(headers.authorization, `Basic ${Buffer.from('ship:s3cret').toString('base64')}`);
    }));

  test('a bearer token file is re-read when it changes', () =>
    withCollector(async (collector) => {
      const tokenFile = join(dir, 'token');
      writeFileSync(tokenFile, 'first-token\n');
      const service = sink({ url: collector.url, auth: { type: 'bearer', tokenFile } });
      await service.send(records, signal);
      writeFileSync(tokenFile, 'second-token-longer\n');
      utimesSync(tokenFile, new Date(), new Date(Date.now() + 5_000));
      await service.send(records, signal);
      await service.close();
      assert.deepEqual(
        collector.requests.map((request) => request.headers.authorization),
        ['Bearer first-token', 'Bearer second-token-longer'],
      );
    }));

  test('basic auth with a password file and an API key from a file', () =>
    withCollector(async (collector) => {
      const passwordFile = join(dir, 'password');
      const keyFile = join(dir, 'api-key');
      writeFileSync(passwordFile, 'from-a-file\n');
      writeFileSync(keyFile, 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==\n');
      const basic = sink({
        url: collector.url,
        auth: { type: 'basic', user: 'ship', passwordFile },
      });
      const apiKey = sink({ url: collector.url, auth: { type: 'apiKey', keyFile } });
      await basic.send(records, signal);
      await apiKey.send(records, signal);
      await Promise.all([basic.close(), apiKey.close()]);
      assert.deepEqual(
        collector.requests.map((request) => request.headers.authorization),
        [
          `Basic ${Buffer.from('ship:from-a-file').toString('base64')}`,
          'ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==',
        ],
      );
    }));

  test('bearer auth needs exactly one of token and tokenFile', () => {
    assert.throws(() =>
      httpSinkSchema.parse({ type: 'http', url: 'http://x', auth: { type: 'bearer' } }),
    );
    assert.throws(() => httpSinkSchema.parse({ type: 'http', url: 'http://x', unknown: 1 }));
    const basic = { type: 'basic', user: 'u', password: 'p', passwordFile: '/f' };
    assert.throws(() => httpSinkSchema.parse({ type: 'http', url: 'http://x', auth: basic }));
    const halfCertificate = { certFile: '/c.pem' };
    assert.throws(() =>
      httpSinkSchema.parse({ type: 'http', url: 'http://x', tls: halfCertificate }),
    );
  });
});

describe('HTTP sink: outcome classification', () => {
  const cases: Array<[number, 'delivered' | 'unavailable' | 'rejected']> = [
    [200, 'delivered'],
    [204, 'delivered'],
    [408, 'unavailable'],
    [429, 'unavailable'],
    [500, 'unavailable'],
    [503, 'unavailable'],
    [501, 'rejected'],
    [400, 'rejected'],
    [401, 'rejected'],
    [413, 'rejected'],
  ];
  for (const [status, outcome] of cases) {
    test(`${status} -> ${outcome}`, () =>
      withCollector(async (collector) => {
        collector.answer = () => ({
          status,
          body: status >= 300 ? `{"why":"status ${status}"}` : undefined,
        });
        const service = sink({ url: collector.url });
        const result = service.send(records, signal);
        if (outcome === 'delivered') assert.deepEqual((await result).rejected, []);
        if (outcome === 'unavailable') await assert.rejects(result, SinkUnavailableError);
        if (outcome === 'rejected') {
          await assert.rejects(result, (error: unknown) => {
            assert.ok(error instanceof SinkRejectedError);
            assert.equal(error.status, status);
            assert.equal(error.response, `{"why":"status ${status}"}`);
            return true;
          });
        }
        await service.close();
      }));
  }

  test('Retry-After in seconds and as an HTTP-date', () =>
    withCollector(async (collector) => {
      collector.answer = () => ({ status: 503, headers: { 'retry-after': '7' } });
      const service = sink({ url: collector.url });
      await assert.rejects(
        service.send(records, signal),
        (error: SinkUnavailableError) => error.retryAfterMs === 7_000,
      );
      await service.close();
      const now = Date.parse('2026-01-01T00:00:00Z');
      assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now, 60_000), 30_000);
      assert.equal(parseRetryAfter('Fri, 02 Jan 2026 00:00:00 GMT', now, 60_000), 60_000);
      assert.equal(parseRetryAfter('soon', now, 60_000), undefined);
    }));

  test('a Retry-After of a day is capped at maxRetryAfterMs (default 60 s)', () =>
    withCollector(async (collector) => {
      collector.answer = () => ({ status: 429, headers: { 'retry-after': '86400' } });
      for (const [settings, expected] of [
        [{}, 60_000],
        [{ maxRetryAfterMs: 5_000 }, 5_000],
      ] as const) {
        const service = sink({ url: collector.url, ...settings });
        await assert.rejects(
          service.send(records, signal),
          (error: SinkUnavailableError) => error.retryAfterMs === expected,
        );
        await service.close();
      }
    }));

  test('a refused connection is retryable', async () => {
    const server = createTcpServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const service = sink({ url: `http://127.0.0.1:${port}` });
    await assert.rejects(service.send(records, signal), SinkUnavailableError);
    await service.close();
  });

  test('a collector that never answers hits the headers timeout: retryable', async () => {
    const server = createTcpServer((socket) => socket.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const service = sink({ url: `http://127.0.0.1:${port}`, timeouts: { headersTimeoutMs: 200 } });
    await assert.rejects(service.send(records, signal), (error: SinkUnavailableError) => {
      assert.ok(error instanceof SinkUnavailableError);
      assert.match(error.message, /UND_ERR_HEADERS_TIMEOUT/);
      return true;
    });
    await service.close();
    server.close();
  });
});

test('TLS with a private CA, a client certificate and a server name', async () => {
  const certificates = makeTestCertificates(dir, 'collector.test');
  const read = (name: string) => readFileSync(join(dir, name));
  const clientNames: string[] = [];
  const server = createHttpsServer(
    {
      key: read('server.key'),
      cert: read('server.pem'),
      ca: read('ca.pem'),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (request, response) => {
      clientNames.push(
        (request.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN as string,
      );
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const tls = {
    caFile: certificates.caFile,
    certFile: certificates.clientCertFile,
    keyFile: certificates.clientKeyFile,
    serverName: 'collector.test',
  };
  const service = sink({ url: `https://127.0.0.1:${port}/in`, tls });
  await service.send(records, signal);
  await service.close();
  assert.deepEqual(clientNames, ['keepwire']);
  const untrusting = sink({
    url: `https://127.0.0.1:${port}/in`,
    tls: { ...tls, caFile: undefined },
  });
  await assert.rejects(untrusting.send(records, signal), SinkUnavailableError);
  await untrusting.close();
  server.close();
});
