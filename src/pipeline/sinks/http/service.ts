/**
 * Sends one batch as one POST through the sink's pool and classifies the
 * outcome: 2xx delivered; 408, 429, 5xx except 501 and transport errors or
 * timeouts -> SinkUnavailableError (retry, honouring Retry-After up to
 * maxRetryAfterMs); other
 * 4xx and 501 -> SinkRejectedError with the response body, trimmed, for
 * the dead-letter file.
 */
import type { SinkPool } from '../../../net/index.ts';
import { SinkRejectedError, SinkUnavailableError } from '../../errors.ts';
import { parseRetryAfter } from '../retry-after.ts';
import { DELIVERED, type SendResult, type SinkService } from '../service.ts';
import type { BuiltRequest, RequestBuilder } from './request-builder.ts';

/** How much of a rejecting response is kept for the dead-letter record. */
const RESPONSE_KEEP_BYTES = 1024;

export class HttpService implements SinkService {
  readonly #name: string;
  readonly #pool: SinkPool;
  readonly #builder: RequestBuilder;
  readonly #maxRetryAfterMs: number;

  constructor(name: string, pool: SinkPool, builder: RequestBuilder, maxRetryAfterMs: number) {
    this.#name = name;
    this.#pool = pool;
    this.#builder = builder;
    this.#maxRetryAfterMs = maxRetryAfterMs;
  }

  get pool(): SinkPool {
    return this.#pool;
  }

  async send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    const request = await this.#builder.build(records);
    try {
      return await this.#send(request, signal);
    } finally {
      this.#pool.afterBodyWritten(request.body, request.release);
    }
  }

  async #send(request: BuiltRequest, signal: AbortSignal): Promise<SendResult> {
    let response: Awaited<ReturnType<SinkPool['request']>>;
    try {
      response = await this.#pool.request({
        method: 'POST',
        path: request.path,
        headers: request.headers,
        body: request.body,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw error;
      const code = (error as { code?: string }).code ?? 'ERROR';
      throw new SinkUnavailableError(
        `sink ${this.#name}: ${code} ${(error as Error).message}; the batch will be retried (check that the collector is up and reachable)`,
        { cause: error },
      );
    }
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      await response.body.dump();
      return DELIVERED;
    }
    const text = await readTrimmed(response.body);
    if (status === 408 || status === 429 || (status >= 500 && status !== 501)) {
      throw new SinkUnavailableError(
        `sink ${this.#name}: the collector answered ${status}; the batch will be retried`,
        {
          status,
          retryAfterMs: parseRetryAfter(
            response.headers['retry-after'],
            Date.now(),
            this.#maxRetryAfterMs,
          ),
        },
      );
    }
    throw new SinkRejectedError(
      `sink ${this.#name}: the collector refused the batch with ${status}; it went to the dead-letter file (fix the events or the sink's url, headers or auth)`,
      { status, response: text },
    );
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}

async function readTrimmed(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length < RESPONSE_KEEP_BYTES) {
      chunks.push(chunk);
      length += chunk.length;
    }
  }
  const text = Buffer.concat(chunks).subarray(0, RESPONSE_KEEP_BYTES).toString('utf8').trim();
  return length > RESPONSE_KEEP_BYTES ? `${text}…` : text;
}
