/**
 * One node of a BulkCluster: an HTTP (or HTTPS) listener on 127.0.0.1 that
 * answers `GET /` (cluster info) and `POST|PUT /_bulk`, `/<index>/_bulk`
 * from the cluster's store, with the misbehaviours tests need:
 *
 * - `auth`: only requests with this exact `Authorization` header are served
 *   (401 otherwise, as the security plugin answers);
 * - `maxContentLengthBytes`: 413 above it (http.max_content_length);
 * - `answerNext`: the next `_bulk` requests get these whole answers (429
 *   with Retry-After, 503...), one each, before the store sees them;
 * - `isHanging`: requests are read and never answered (a node that hangs);
 * - stop() closes the listener and every socket (a node that dies);
 *   start() listens again on the same port (a node that comes back).
 *
 * Like OpenSearch it keeps idle connections open and sends no `Keep-Alive:
 * timeout` hint. It counts the connections open at once (`maxOpen`), what
 * the connection-hygiene tests check against the sink's concurrency.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { type BulkCluster, requestError } from './bulk-cluster.ts';

export interface BulkNodeOptions {
  readonly name?: string;
  readonly port?: number;
  /** TLS: key and certificate (PEM); with `ca` and `requestCert`, client certificates are required. */
  readonly tls?: { key: Buffer; cert: Buffer; ca?: Buffer; requestCert?: boolean };
  readonly auth?: string;
  readonly maxContentLengthBytes?: number;
  /**
   * Benchmarks only, not OpenSearch's API: POSTs of plain NDJSON events (an
   * http sink's) to this path are stored, one document of index `plain` per
   * line, so both sinks can be measured against one server.
   */
  readonly plainIngestPath?: string;
}

export interface WholeAnswer {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly bytes: number;
  /** Actions in the body (NDJSON action lines). */
  readonly actions: number;
}

export class BulkNode {
  readonly cluster: BulkCluster;
  readonly name: string;
  readonly options: BulkNodeOptions;
  readonly requests: ReceivedRequest[] = [];
  readonly answerNext: WholeAnswer[] = [];
  isHanging = false;
  /** Connections accepted, open now, and the most open at once. */
  accepted = 0;
  open = 0;
  maxOpen = 0;
  #plainIds = 0;
  #port: number;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #bodies = new BodyBuffers();

  constructor(cluster: BulkCluster, options: BulkNodeOptions = {}) {
    this.cluster = cluster;
    this.options = options;
    this.name = options.name ?? 'node-1';
    this.#port = options.port ?? 0;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.#port}`;
  }

  get isRunning(): boolean {
    return this.#server !== undefined;
  }

  async start(): Promise<this> {
    const handler = (request: IncomingMessage, response: ServerResponse) =>
      // A client that goes away mid-request (a sink stopping) only ends that request.
      this.#handle(request, response).catch(() => response.destroy());
    const server = this.options.tls
      ? createHttpsServer(
          { ...this.options.tls, rejectUnauthorized: this.options.tls.requestCert === true },
          handler,
        )
      : createHttpServer(handler);
    // OpenSearch keeps idle connections and gives no Keep-Alive hint.
    server.keepAliveTimeout = 0;
    server.requestTimeout = 0;
    server.on(this.options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.accepted += 1;
      this.open += 1;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      this.#sockets.add(socket);
      socket.on('close', () => {
        this.open -= 1;
        this.#sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as { port: number }).port;
    this.#server = server;
    return this;
  }

  /** Closes the listener and every connection, as a node that dies. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise((resolve) => server.close(resolve));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const raw = await this.#bodies.read(request);
    try {
      this.#answer(request, response, raw);
    } finally {
      this.#bodies.release(raw);
    }
  }

  #answer(request: IncomingMessage, response: ServerResponse, raw: Buffer) {
    if (this.isHanging) return; // the socket stays open until the client gives up or stop()
    const url = new URL(request.url ?? '/', 'http://node');
    const isBulk = /^\/(?:([^/_][^/]*)\/)?_bulk$/.exec(url.pathname);
    this.requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      headers: request.headers,
      bytes: raw.length,
      actions: 0,
    });
    if (this.options.auth !== undefined && request.headers.authorization !== this.options.auth) {
      return send(response, {
        status: 401,
        headers: { 'www-authenticate': 'Basic realm="OpenSearch Security"' },
        body: 'Unauthorized',
      });
    }
    const queued = isBulk ? this.answerNext.shift() : undefined;
    if (queued) return send(response, queued);
    if (request.method === 'GET' && url.pathname === '/') {
      return send(response, { status: 200, body: JSON.stringify(this.cluster.info(this.name)) });
    }
    if (request.method === 'POST' && url.pathname === this.options.plainIngestPath) {
      const text = raw.toString('utf8');
      let count = 0;
      for (const line of text.split('\n')) {
        if (line === '') continue;
        this.cluster.put('plain', String(this.#plainIds++), line);
        count += 1;
      }
      return send(response, { status: 200, body: `{"accepted":${count}}` });
    }
    if (!isBulk || (request.method !== 'POST' && request.method !== 'PUT')) {
      return send(
        response,
        requestError(
          404,
          'no_handler_found',
          `no handler found for uri [${url.pathname}] and method [${request.method}]`,
        ),
      );
    }
    if (
      this.options.maxContentLengthBytes !== undefined &&
      raw.length > this.options.maxContentLengthBytes
    ) {
      return send(response, { status: 413, body: '' });
    }
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/(x-ndjson|json)/.test(type)) {
      return send(response, {
        status: 406,
        body: JSON.stringify({
          error: `Content-Type header [${type}] is not supported`,
          status: 406,
        }),
      });
    }
    let body: Buffer;
    try {
      body = request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
    } catch {
      return send(response, requestError(400, 'parse_exception', 'the request body is not gzip'));
    }
    const answer = this.cluster.bulk(body, isBulk[1], url.searchParams);
    (this.requests.at(-1) as { actions: number }).actions = answer.actions ?? 0;
    send(response, answer);
  }
}

function send(response: ServerResponse, answer: WholeAnswer): void {
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=UTF-8',
    ...answer.headers,
  };
  response.writeHead(answer.status, headers);
  response.end(answer.body ?? '');
}

/**
 * Request bodies read into buffers that are reused from request to request
 * (one per request in progress), sized from `content-length`: a benchmark's
 * megabytes of `_bulk` bodies then cost the node one copy each, not a fresh
 * allocation (and its page faults) plus a concatenation.
 */
class BodyBuffers {
  readonly #free: Buffer[] = [];

  async read(request: IncomingMessage): Promise<Buffer> {
    const length = Number(request.headers['content-length']);
    if (!Number.isSafeInteger(length)) {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    }
    let buffer = this.#free.pop();
    if (buffer === undefined || buffer.length < length) buffer = Buffer.allocUnsafeSlow(length);
    let at = 0;
    for await (const chunk of request) at += (chunk as Buffer).copy(buffer, at);
    return buffer.subarray(0, at);
  }

  /** Gives `body`'s memory back once nothing refers to it. */
  release(body: Buffer): void {
    if (body.byteOffset === 0 && body.buffer.byteLength >= 1 << 16 && this.#free.length < 8)
      this.#free.push(Buffer.from(body.buffer));
  }
}
