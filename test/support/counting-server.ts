/**
 * A small HTTP collector for tests and benchmarks: accepts NDJSON (or a JSON
 * array) POSTs, optionally gzip, and counts events and sequence numbers
 * (`seq` fields). Its answer can be switched at run time (200, 500, 400...)
 * to play a failing or rejecting sink. Listens on 127.0.0.1, port 0.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface CountingServer {
  readonly url: string;
  readonly server: Server;
  /** Every `seq` seen, with how many times. */
  readonly seen: Map<number, number>;
  events: number;
  requests: number;
  /** Status to answer with; 200 counts the events, anything else does not. */
  status: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  close(): Promise<void>;
}

async function readAll(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const encoding = request.headers['content-encoding'];
  return encoding === 'gzip' ? gunzipSync(body) : body;
}

export async function startCountingServer(
  /** parse false: count lines without parsing JSON (benchmarks). */
  options: { countSeq?: boolean; parse?: boolean } = {},
): Promise<CountingServer> {
  let connections = 0;
  const state = {
    seen: new Map<number, number>(),
    events: 0,
    requests: 0,
    status: 200,
  };
  const server = createServer(async (request, response) => {
    const body = await readAll(request);
    state.requests += 1;
    if (state.status !== 200) {
      response.writeHead(state.status, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: `answering ${state.status} on purpose` }));
      return;
    }
    if (options.parse === false) {
      let lines = 0;
      for (let at = body.indexOf(10); at !== -1; at = body.indexOf(10, at + 1)) lines += 1;
      if (body.length > 0 && body[body.length - 1] !== 10) lines += 1;
      state.events += lines;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"ok":true}');
      return;
    }
    const text = body.toString('utf8').trim();
    const items: unknown[] = text.startsWith('[')
      ? (JSON.parse(text) as unknown[])
      : text === ''
        ? []
        : text.split('\n').map((line) => JSON.parse(line) as unknown);
    state.events += items.length;
    if (options.countSeq ?? true) {
      for (const item of items) {
        const seq = (item as { seq?: number }).seq;
        if (typeof seq === 'number') state.seen.set(seq, (state.seen.get(seq) ?? 0) + 1);
      }
    }
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"ok":true}');
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(state, {
    url: `http://127.0.0.1:${port}`,
    server,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
