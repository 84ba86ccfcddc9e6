/**
 * The contract between the sink driver (batching from the buffer, retries,
 * acknowledgement, dead letters) and a sink's service (encoding and sending
 * one batch). A new sink implements `SinkService`; the driver is shared.
 *
 * A record is the bytes of one event: one JSON document, no trailing newline.
 *
 * A send's answer says, item by item, what became of the records it was
 * given: an item not named in `rejected` or `retry` was delivered. The
 * driver dead-letters the rejected ones, sends the ones to retry again, alone,
 * after a backoff (Vector's `RetryAction::RetryPartial`), and acknowledges the
 * batch once every item is delivered or dead-lettered.
 */
export interface RejectedItem {
  /** Index into the records of that send. */
  readonly index: number;
  readonly reason: string;
  /** The peer's status for this item, when it gave one. */
  readonly status?: number;
  /** The peer's answer for this item (an error object as JSON, say), trimmed. */
  readonly response?: string;
}

export interface SendResult {
  /**
   * Items that can never be delivered (an OpenSearch `_bulk` item answered
   * 400, say), with the reason. They go to the dead-letter file.
   */
  readonly rejected: readonly RejectedItem[];
  /**
   * Items to send again (a `_bulk` item answered 429 or 5xx), by index into
   * the records of that send; none when absent.
   */
  readonly retry?: readonly number[];
  /** The least wait before that retry, when the peer said (Retry-After). */
  readonly retryAfterMs?: number;
  /**
   * Of the items delivered, how many the peer already had (a `_bulk`
   * `create` answered 409): delivered, and counted apart.
   */
  readonly alreadyPresent?: number;
}

export interface SinkService {
  /**
   * Delivers one batch. Resolves once the peer has answered for every item.
   * Rejects with `SinkUnavailableError` (or another retryable error) when a
   * retry of the whole send may succeed and `SinkRejectedError` when it
   * cannot; any other error counts as retryable.
   */
  send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult>;
  /** Closes pooled connections (reason `shutdown` in the ledger). */
  close(): Promise<void>;
}

export const DELIVERED: SendResult = Object.freeze({ rejected: Object.freeze([]) });
