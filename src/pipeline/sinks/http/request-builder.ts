/**
 * Batch -> the parts of one POST: path, headers, body. Constant headers
 * (content type and encoding, custom headers, basic or fixed bearer auth)
 * are built once; per request only the body, its compression and a rotated
 * token file's header change.
 */
import { promisify } from 'node:util';
import { gzip, zstdCompress } from 'node:zlib';
import type { HttpSinkConfig } from './config.ts';
import { CONTENT_TYPES, encodeBatch } from './encoder.ts';
import { TokenFile } from './token-file.ts';

const gzipAsync = promisify(gzip);
const zstdAsync = promisify(zstdCompress);

export interface BuiltRequest {
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

export class RequestBuilder {
  readonly #config: HttpSinkConfig;
  readonly #path: string;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #tokenFile: TokenFile | undefined;

  constructor(config: HttpSinkConfig) {
    this.#config = config;
    const url = new URL(config.url);
    this.#path = `${url.pathname}${url.search}`;
    const headers: Record<string, string> = {
      'content-type': CONTENT_TYPES[config.encoding],
      'user-agent': 'keepwire',
    };
    if (config.compression !== 'none') headers['content-encoding'] = config.compression;
    const auth = config.auth;
    if (auth?.type === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
    } else if (auth?.type === 'bearer' && auth.token !== undefined) {
      headers.authorization = `Bearer ${auth.token}`;
    }
    for (const [name, value] of Object.entries(config.headers)) headers[name.toLowerCase()] = value;
    this.#headers = Object.freeze(headers);
    this.#tokenFile =
      auth?.type === 'bearer' && auth.tokenFile !== undefined
        ? new TokenFile(auth.tokenFile)
        : undefined;
  }

  async build(records: readonly Buffer[]): Promise<BuiltRequest> {
    const encoded = encodeBatch(records, this.#config.encoding);
    const body = await this.#compress(encoded);
    if (!this.#tokenFile) return { path: this.#path, headers: this.#headers, body };
    const authorization = await this.#tokenFile.authorization();
    return { path: this.#path, headers: { ...this.#headers, authorization }, body };
  }

  #compress(body: Buffer): Promise<Buffer> {
    switch (this.#config.compression) {
      case 'gzip':
        return gzipAsync(body);
      case 'zstd':
        return zstdAsync(body);
      case 'none':
        return Promise.resolve(body);
    }
  }
}
