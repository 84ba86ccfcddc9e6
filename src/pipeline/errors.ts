import { KeepwireError } from '../errors.ts';

/**
 * A sink refused a batch for good (4xx other than 408 and 429): retrying the
 * same bytes cannot succeed, so the batch goes to the dead-letter file with
 * this reason and the pipeline moves on.
 */
export class SinkRejectedError extends KeepwireError {
  /** What the peer answered, trimmed, for the dead-letter record. */
  readonly response: string | undefined;
  constructor(
    message: string,
    options: { status?: number; response?: string; cause?: unknown } = {},
  ) {
    super('SHIP_SINK_REJECTED', message, {
      status: options.status ?? 502,
      retryable: false,
      cause: options.cause,
    });
    this.response = options.response;
  }
}

/**
 * A sink could not take a batch now (transport error, timeout, 408, 429, 5xx
 * but 501): the driver retries it with exponential backoff and full jitter,
 * waiting at least `retryAfterMs` when the peer said so.
 */
export class SinkUnavailableError extends KeepwireError {
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    options: { retryAfterMs?: number; status?: number; cause?: unknown } = {},
  ) {
    super('SHIP_SINK_UNAVAILABLE', message, {
      status: options.status ?? 503,
      retryable: true,
      cause: options.cause,
    });
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Every endpoint of a sink with several (an OpenSearch cluster's nodes) is
 * set aside after failing: the batch is retried once the next one has been
 * probed back (`retryAfterMs`). Nothing is lost; the buffer keeps it.
 */
export class SinkEndpointsDownError extends KeepwireError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: { cause?: unknown } = {}) {
    super('SHIP_SINK_ENDPOINTS_DOWN', message, {
      status: 503,
      retryable: true,
      cause: options.cause,
    });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A `_bulk` answer that is not what the protocol promises (not JSON, no
 * `items`, or not one item per action): nothing can be told about any item,
 * so the whole send is retried.
 */
export class BulkResponseInvalidError extends KeepwireError {
  constructor(message: string, options: { status?: number; cause?: unknown } = {}) {
    super('SHIP_BULK_RESPONSE_INVALID', message, {
      status: options.status ?? 502,
      retryable: true,
      cause: options.cause,
    });
  }
}

/** The least wait a retryable error asks for before a retry (a peer's Retry-After), if any. */
export function retryAfterOf(error: unknown): number | undefined {
  if (error instanceof SinkUnavailableError || error instanceof SinkEndpointsDownError)
    return error.retryAfterMs;
  return undefined;
}

/**
 * A buffer configured with `whenFull: block` has no room: the source answers
 * 503 with `Retry-After` (file sources pause) and nothing is accepted.
 */
export class ShipBufferFullError extends KeepwireError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number) {
    super('SHIP_BUFFER_FULL', message, { status: 503, retryable: true });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A disk buffer could not make an append durable (a failed write or
 * fdatasync, a full disk): nothing of the append was accepted. The buffer
 * refuses appends for `retryAfterMs`, then tries again; sources answer 503
 * with `Retry-After` (waiting sources wait it out), as for a full buffer.
 */
export class ShipBufferWriteError extends KeepwireError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options: { cause?: unknown } = {}) {
    super('SHIP_BUFFER_WRITE_FAILED', message, { status: 503, retryable: true, ...options });
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * An append larger than the buffer can ever hold (its frames above a disk
 * buffer's `maxSizeBytes`, or more events than a memory buffer's
 * `maxEvents`) under `whenFull: block`: retrying cannot help, so the http
 * source answers 413; waiting sources split the append instead.
 */
export class ShipAppendTooLargeError extends KeepwireError {
  constructor(message: string) {
    super('SHIP_APPEND_TOO_LARGE', message, { status: 413 });
  }
}

/**
 * Events a source could not parse: invalid JSON (the message names the
 * line), binary data, a damaged gzip body. Nothing of the request was kept.
 */
export class ShipInputInvalidError extends KeepwireError {
  constructor(message: string) {
    super('SHIP_INPUT_INVALID', message, { status: 400 });
  }
}

/** A body or a single line above the source's limit: answered 413, nothing kept. */
export class ShipInputTooLargeError extends KeepwireError {
  constructor(message: string) {
    super('SHIP_INPUT_TOO_LARGE', message, { status: 413 });
  }
}

/**
 * A thread of `keepwire ship`'s decode pool threw or exited: the run stops
 * reading. Events appended before the batch it held stay in the buffer and
 * are delivered; the input's checkpoint stays before that batch, so a run
 * with the same data directory reads on from there.
 */
export class DecodeThreadError extends KeepwireError {
  constructor(message: string, cause?: unknown) {
    super('SHIP_DECODE_THREAD_FAILED', message, { status: 500, retryable: false, cause });
  }
}
