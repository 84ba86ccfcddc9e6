/**
 * The contract between the sink driver (batching from the buffer, retries,
 * acknowledgement, dead letters) and a sink's service (encoding and sending
 * one batch). A new sink implements `SinkService`; the driver is shared.
 *
 * A record is the bytes of one event: one JSON document, no trailing newline.
 */
export interface SendResult {
  /**
   * Items of the batch that can never be delivered (an OpenSearch `_bulk`
   * item answered 400, say), by index into the batch, with the reason. They
   * go to the dead-letter file; the rest of the batch counts as delivered.
   */
  readonly rejected: ReadonlyArray<{ readonly index: number; readonly reason: string }>;
}

export interface SinkService {
  /**
   * Delivers one batch. Resolves once the peer has accepted it. Rejects with
   * `SinkUnavailableError` when a retry may succeed and `SinkRejectedError`
   * when it cannot; any other error counts as retryable.
   */
  send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult>;
  /** Closes pooled connections (reason `shutdown` in the ledger). */
  close(): Promise<void>;
}

export const DELIVERED: SendResult = Object.freeze({ rejected: Object.freeze([]) });
