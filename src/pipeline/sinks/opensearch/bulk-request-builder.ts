/**
 * Batch -> the headers and body of one `_bulk` POST. Constant headers
 * (content type and encoding, custom headers, auth with an inline secret)
 * are built once; per request only the body, its compression and the
 * header of a secret kept in a file change. Bodies come from a BodyPool and
 * go back with `release()` once every socket they went out on has written
 * them (SinkPool.afterBodyWritten).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { Authorization } from '../authorization.ts';
import { BodyPool } from '../body-pool.ts';
import { BulkEncoder } from './bulk-encoder.ts';
import type { OpensearchSinkConfig } from './config.ts';
import { IndexTemplate } from './index-template.ts';

const gzipAsync = promisify(gzip);
const NOTHING_TO_RELEASE = () => {};

export interface BulkRequest {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  release(): void;
}

export class BulkRequestBuilder {
  readonly #encoder: BulkEncoder;
  readonly #bodies: BodyPool;
  readonly #authorization: Authorization;
  readonly #isGzip: boolean;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #infoHeaders: Readonly<Record<string, string>>;

  /** `concurrency`: requests in flight at once, each holding its body. */
  constructor(config: OpensearchSinkConfig, concurrency: number, now?: () => number) {
    this.#encoder = new BulkEncoder({
      action: config.action,
      index: new IndexTemplate(config.index),
      idField: config.idField,
      timestampField: config.timestampField,
      now,
    });
    this.#bodies = new BodyPool(concurrency + 1);
    this.#authorization = new Authorization(config.auth);
    this.#isGzip = config.compression === 'gzip';
    const common: Record<string, string> = { 'user-agent': 'keepwire', accept: 'application/json' };
    if (this.#authorization.fixed !== undefined) common.authorization = this.#authorization.fixed;
    for (const [name, value] of Object.entries(config.headers)) common[name.toLowerCase()] = value;
    this.#infoHeaders = Object.freeze({ ...common });
    const bulk: Record<string, string> = { ...common, 'content-type': 'application/x-ndjson' };
    if (this.#isGzip) bulk['content-encoding'] = 'gzip';
    this.#headers = Object.freeze(bulk);
  }

  async build(records: readonly Buffer[]): Promise<BulkRequest> {
    const headers = await this.#withAuthorization(this.#headers);
    const bodies = this.#bodies;
    const encoded = this.#encoder.encode(records, (bytes) => bodies.acquire(bytes));
    if (!this.#isGzip) return { headers, body: encoded, release: () => bodies.release(encoded) };
    try {
      return { headers, body: await gzipAsync(encoded), release: NOTHING_TO_RELEASE };
    } finally {
      bodies.release(encoded);
    }
  }

  /** The headers of a `GET /`. */
  infoHeaders(): Promise<Record<string, string>> {
    return this.#withAuthorization(this.#infoHeaders);
  }

  async #withAuthorization(
    headers: Readonly<Record<string, string>>,
  ): Promise<Record<string, string>> {
    if (!this.#authorization.isRotating) return headers as Record<string, string>;
    return { ...headers, authorization: (await this.#authorization.current())! };
  }
}
