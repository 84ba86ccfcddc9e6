/**
 * Sends one batch as one `_bulk` request and says what became of each
 * document (SendResult). How the whole answer is taken:
 *
 * - 2xx: item by item (bulk-response.ts): indexed; already present (409 on
 *   create); to retry, alone (429, 5xx); refused for good, with the error.
 * - 413: the batch is split in halves, each sent on its own, down to one
 *   document; a single document still answered 413 is refused for good.
 *   A half that fails as a whole is retried alone, not its sibling.
 * - 429, and 503 with Retry-After: the whole batch is retried after the
 *   Retry-After, capped at `maxRetryAfterMs` (a `Retry-After: 86400` must
 *   not stop the sink for a day). 408 too, after the driver's backoff.
 * - No answer (connection refused or reset, timeout), or any other 5xx: the
 *   endpoint's failure is counted (endpoint-set.ts) and the request goes at
 *   once to another healthy endpoint not yet tried; when none is left, the
 *   batch is retried after the driver's backoff.
 * - Any other 4xx (401, 403, 404...): the batch is refused for good
 *   (SinkRejectedError, into the dead-letter file with the answer).
 */
import type { Dispatcher } from 'undici';
import { retryAfterOf, SinkRejectedError, SinkUnavailableError } from '../../errors.ts';
import { parseRetryAfter } from '../retry-after.ts';
import type { RejectedItem, SendResult, SinkService } from '../service.ts';
import type { BulkAction } from './bulk-encoder.ts';
import type { BulkRequest, BulkRequestBuilder } from './bulk-request-builder.ts';
import { type BulkOutcome, readBulkResponse } from './bulk-response.ts';
import type { Endpoint } from './endpoint.ts';
import type { EndpointSet } from './endpoint-set.ts';

export interface OpensearchServiceOptions {
  readonly name: string;
  readonly action: BulkAction;
  readonly maxRetryAfterMs: number;
}

/** How much of a refusing answer is kept for the dead-letter file. */
const RESPONSE_KEEP_BYTES = 1024;
const TOO_LARGE = Symbol('413');
/** The endpoint failed: the request may go to another. */
class Failover {
  readonly error: SinkUnavailableError;
  constructor(error: SinkUnavailableError) {
    this.error = error;
  }
}

export class OpensearchService implements SinkService {
  readonly #options: OpensearchServiceOptions;
  readonly #endpoints: EndpointSet;
  readonly #builder: BulkRequestBuilder;

  constructor(
    options: OpensearchServiceOptions,
    endpoints: EndpointSet,
    builder: BulkRequestBuilder,
  ) {
    this.#options = options;
    this.#endpoints = endpoints;
    this.#builder = builder;
  }

  get endpoints(): readonly Endpoint[] {
    return this.#endpoints.endpoints;
  }

  async send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    const answer = await this.#post(records, signal);
    if (answer !== TOO_LARGE) return answer;
    if (records.length === 1) {
      return {
        rejected: [
          {
            index: 0,
            status: 413,
            reason: `sink ${this.#options.name}: the cluster answered 413 to this document alone: it is larger than the cluster's http.max_content_length`,
          },
        ],
      };
    }
    const half = Math.ceil(records.length / 2);
    const first = await this.#sendPart(records.slice(0, half), signal);
    const second = await this.#sendPart(records.slice(half), signal);
    return merge(first, second, half);
  }

  async close(): Promise<void> {
    this.#endpoints.close();
    await Promise.all(this.#endpoints.endpoints.map((endpoint) => endpoint.pool.close()));
  }

  /** A half of a split batch: a failure of the whole half is that half's items to retry or refuse. */
  async #sendPart(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    try {
      return await this.send(records, signal);
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof SinkRejectedError) {
        return {
          rejected: records.map((_, index) => ({
            index,
            reason: error.message,
            status: error.status,
            response: error.response,
          })),
        };
      }
      return {
        rejected: [],
        retry: records.map((_, index) => index),
        retryAfterMs: retryAfterOf(error),
      };
    }
  }

  async #post(
    records: readonly Buffer[],
    signal: AbortSignal,
  ): Promise<BulkOutcome | typeof TOO_LARGE> {
    const request = await this.#builder.build(records);
    const used: Endpoint[] = [];
    try {
      let failure: SinkUnavailableError | undefined;
      for (;;) {
        const endpoint = this.#endpoints.pick(new Set(used));
        if (endpoint === undefined) throw failure ?? this.#endpoints.allDown();
        used.push(endpoint);
        endpoint.inFlight += 1;
        try {
          const answer = await this.#postTo(endpoint, request, records.length, signal);
          if (!(answer instanceof Failover)) return answer;
          failure = answer.error;
        } finally {
          endpoint.inFlight -= 1;
        }
      }
    } finally {
      releaseAfterWritten(used, request);
    }
  }

  async #postTo(
    endpoint: Endpoint,
    request: BulkRequest,
    count: number,
    signal: AbortSignal,
  ): Promise<BulkOutcome | typeof TOO_LARGE | Failover> {
    const { name, action } = this.#options;
    let response: Dispatcher.ResponseData;
    let body: Buffer;
    try {
      response = await endpoint.pool.request({
        method: 'POST',
        path: endpoint.bulkPath,
        headers: request.headers,
        body: request.body,
        signal,
      });
      body = await readBody(
        response.body,
        response.statusCode < 300 ? Infinity : RESPONSE_KEEP_BYTES,
      );
    } catch (error) {
      if (signal.aborted) throw error;
      endpoint.metrics.requested('error');
      endpoint.metrics.retried(count);
      this.#endpoints.failed(endpoint, error);
      const code = (error as { code?: string }).code ?? 'ERROR';
      return new Failover(
        new SinkUnavailableError(
          `sink ${name}: ${endpoint.label}: ${code} ${(error as Error).message}; the batch will be retried (check that the node is up and reachable)`,
          { cause: error },
        ),
      );
    }
    const status = response.statusCode;
    endpoint.metrics.requested(status);
    if (status >= 200 && status < 300) {
      const outcome = readBulkResponse(body, count, action);
      this.#endpoints.succeeded(endpoint);
      endpoint.metrics.answered(outcome);
      return outcome;
    }
    if (status === 413) {
      this.#endpoints.succeeded(endpoint);
      if (count === 1) endpoint.metrics.deadLettered(1);
      return TOO_LARGE;
    }
    const retryAfterMs = parseRetryAfter(
      response.headers['retry-after'],
      Date.now(),
      this.#options.maxRetryAfterMs,
    );
    if (status === 429 || status === 408 || (status === 503 && retryAfterMs !== undefined)) {
      if (status === 503) this.#endpoints.failed(endpoint, new Error('answered 503'));
      endpoint.metrics.retried(count);
      throw new SinkUnavailableError(
        `sink ${name}: ${endpoint.label} answered ${status}; the batch will be retried`,
        {
          status,
          retryAfterMs,
        },
      );
    }
    const text = trimmed(body);
    if (status >= 500) {
      endpoint.metrics.retried(count);
      this.#endpoints.failed(endpoint, new Error(`answered ${status}`));
      return new Failover(
        new SinkUnavailableError(
          `sink ${name}: ${endpoint.label} answered ${status} (${text}); the batch will be retried`,
          { status },
        ),
      );
    }
    throw new SinkRejectedError(
      `sink ${name}: ${endpoint.label} refused the _bulk request with ${status}; it went to the dead-letter file (fix the sink's endpoints, auth or index settings)`,
      { status, response: text },
    );
  }
}

/** Two halves' results as one, the second's indexes moved past the first's. */
function merge(first: SendResult, second: SendResult, offset: number): SendResult {
  const shift = (item: RejectedItem): RejectedItem => ({ ...item, index: item.index + offset });
  const retryAfter = [first.retryAfterMs, second.retryAfterMs].filter(
    (value) => value !== undefined,
  );
  return {
    rejected: [...first.rejected, ...second.rejected.map(shift)],
    retry: [...(first.retry ?? []), ...(second.retry ?? []).map((index) => index + offset)],
    retryAfterMs: retryAfter.length === 0 ? undefined : Math.max(...retryAfter),
    alreadyPresent: (first.alreadyPresent ?? 0) + (second.alreadyPresent ?? 0),
  };
}

/** The body's memory goes back once every socket it went out on has written it. */
function releaseAfterWritten(used: readonly Endpoint[], request: BulkRequest): void {
  let waiting = used.length;
  if (waiting === 0) {
    request.release();
    return;
  }
  for (const endpoint of used) {
    endpoint.pool.afterBodyWritten(request.body, () => {
      waiting -= 1;
      if (waiting === 0) request.release();
    });
  }
}

/** The whole body, or its first `keep` bytes (the rest is read and dropped). */
async function readBody(body: Dispatcher.ResponseData['body'], keep: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length < keep) chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function trimmed(body: Buffer): string {
  const text = body.subarray(0, RESPONSE_KEEP_BYTES).toString('utf8').trim();
  return body.length > RESPONSE_KEEP_BYTES ? `${text}…` : text;
}
