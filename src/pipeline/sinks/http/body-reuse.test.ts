/**
 * Reused request bodies against a server that answers before it has read
 * the body, then reads the rest: the memory of a body still queued on its
 * socket must not be handed to the next batch, or the server would read the
 * next batch's bytes as the end of this one.
 */
import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { test } from 'node:test';
import { createLogger, createRegistry } from '../../../telemetry/index.ts';
import { DELIVERED } from '../service.ts';
import { httpSinkSchema } from './config.ts';
import { encodeBatch } from './encoder.ts';
import { createHttpSinkService } from './index.ts';

/** 32 records of 1 MiB: more than loopback's socket buffers hold, so part of the body waits in Node. */
const batch = (fill: string) =>
  Array.from({ length: 32 }, (_, i) => Buffer.from(`{"i":${i},"p":"${fill.repeat(1 << 20)}"}`));

interface EarlyAnswer {
  readonly socket: Socket;
  readonly contentLength: number;
  readonly received: Buffer[];
}

/** Answers 200 as soon as a request's headers are in, then stops reading until told. */
async function earlyAnsweringServer() {
  const requests: EarlyAnswer[] = [];
  let onRequest = () => {};
  const server = createServer((socket) => {
    let head = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      head = Buffer.concat([head, data]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      const contentLength = Number(/content-length: (\d+)/i.exec(head.toString('latin1'))![1]);
      const request: EarlyAnswer = { socket, contentLength, received: [head.subarray(end + 4)] };
      requests.push(request);
      socket.on('data', (more: Buffer) => request.received.push(more));
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
      socket.pause();
      onRequest();
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/ingest`,
    requests,
    waitForRequests: async (count: number) => {
      while (requests.length < count) await new Promise<void>((resolve) => (onRequest = resolve));
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

/** Reads the rest of a body, by events: a socket the client closed early ends the read, and the comparison fails. */
async function readBody(request: EarlyAnswer): Promise<Buffer> {
  const length = () => request.received.reduce((sum, chunk) => sum + chunk.length, 0);
  if (length() < request.contentLength && !request.socket.destroyed) {
    await new Promise<void>((resolve) => {
      const check = () => {
        if (length() < request.contentLength) return;
        request.socket.off('data', check);
        request.socket.off('close', resolve);
        resolve();
      };
      request.socket.on('data', check);
      request.socket.once('close', resolve);
      request.socket.resume();
    });
  }
  return Buffer.concat(request.received).subarray(0, request.contentLength);
}

test('a body answered early is not reused while its bytes wait on the socket', async () => {
  const server = await earlyAnsweringServer();
  // The pool's idle timer starts when a response ends, even with the body
  // still being written after an early answer; on a loaded host reading the
  // first 32 MiB can outlast the default 4 s and cut the body. The reuse of
  // body memory is what this test is about, so the timer is put out of reach.
  const config = { type: 'http', url: server.url, pool: { idleTimeoutMs: 600_000 } };
  const service = createHttpSinkService(httpSinkSchema.parse(config), {
    name: 'reuse',
    concurrency: 2,
    registry: createRegistry({ processMetrics: false }),
    logger: createLogger({ level: 'silent' }),
  });
  const signal = new AbortController().signal;
  const first = batch('a');
  const second = batch('b');
  try {
    assert.equal(await service.send(first, signal), DELIVERED, 'answered before the body was read');
    assert.equal(await service.send(second, signal), DELIVERED);
    await server.waitForRequests(2);
    const [firstBody, secondBody] = [
      await readBody(server.requests[0]!),
      await readBody(server.requests[1]!),
    ];
    const describe = (got: Buffer, want: Buffer) => {
      if (got.length < want.length) return `truncated: ${got.length} of ${want.length} bytes`;
      let at = 0;
      while (at < got.length && got[at] === want[at]) at++;
      return `differs at byte ${at} of ${want.length}`;
    };
    const [wantFirst, wantSecond] = [encodeBatch(first, 'ndjson'), encodeBatch(second, 'ndjson')];
    assert.ok(firstBody.equals(wantFirst), `the first body: ${describe(firstBody, wantFirst)}`);
    assert.ok(
      secondBody.equals(wantSecond),
      `the second body: ${describe(secondBody, wantSecond)}`,
    );
  } finally {
    for (const request of server.requests) request.socket.destroy();
    await service.close();
    await server.close();
  }
});
