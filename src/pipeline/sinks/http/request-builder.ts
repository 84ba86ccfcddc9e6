/**
 * Batch -> the parts of one POST: path, headers, body. Constant headers
 * (content type and encoding, custom headers, auth with an inline secret)
 * are built once; per request only the body, its compression and the
 * header of a secret kept in a file change. Bodies come from a BodyPool and go back with
 * `release()` once the request has ended.
 */
import { promisify } from 'node:util';
import { gzip, zstdCompress } from 'node:zlib';
import { Authorization } from '../authorization.ts';
import { BodyPool } from '../body-pool.ts';
import type { HttpSinkConfig } from './config.ts';
import { CONTENT_TYPES, encodeBatch } from './encoder.ts';

const gzipAsync = promisify(gzip);
const zstdAsync = promisify(zstdCompress);

export interface BuiltRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /**
   * Call once the request has ended and its body has left the socket
   * (SinkPool.afterBodyWritten): the body's memory is reused.
   */
  release(): void;
}

const NOTHING_TO_RELEASE = () => {};

export class RequestBuilder {
  readonly #config: HttpSinkConfig;
  readonly #path: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #authorization: Authorization;
  readonly #bodies: BodyPool;

  /** `concurrency`: requests in flight at once, each holding its body. */
  constructor(config: HttpSinkConfig, concurrency: number) {
    this.#config = config;
    this.#bodies = new BodyPool(concurrency + 1);
    const url = new URL(config.url);
    this.#path = `${url.pathname}${url.search}`;
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[config.encoding],
      'user-agent': 'keepwire',
    };
    if (config.compression !== 'none') headers['content-encoding'] = config.compression;
    this.#authorization = new Authorization(config.auth);
    if (this.#authorization.fixed !== undefined) headers.authorization = this.#authorization.fixed;
    for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
    this.#headers = Object.freeze(headers);
  }

  async build(records: readonly Buffer[]): Promise<BuiltRequest> {
    const bodies = this.#bodies;
    const encoded = encodeBatch(records, this.#config.encoding, (bytes) => bodies.acquire(bytes));
    let body = encoded;
    let release = () => bodies.release(encoded);
    if (this.#config.compression !== 'none') {
      try {
        body = await this.#compress(encoded);
      } finally {
        bodies.release(encoded);
      }
      release = NOTHING_TO_RELEASE;
    }
    if (!this.#authorization.isRotating)
      return { path: this.#path, headers: this.#headers, body, release };
    let authorization: string;
    try {
      authorization = (await this.#authorization.current())!;
    } catch (error) {
      release();
      throw error;
    }
    return { path: this.#path, headers: { ...this.#headers, authorization }, body, release };
  }

  #compress(body: Buffer): Promise<Buffer> {
    return this.#config.compression === 'gzip' ? gzipAsync(body) : zstdAsync(body);
  }
}
