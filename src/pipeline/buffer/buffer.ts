/**
 * The contract between sources, buffers and the sink driver. Each sink owns
 * one buffer; sources append to the buffers of the sinks they are routed to.
 * A record is the bytes of one event: one JSON document, no trailing newline.
 *
 * Delivery is at-least-once: a batch handed out by `read` is handed out again
 * after a restart unless it was acknowledged. Batches may be acknowledged out
 * of order (the driver sends several at once); the durable cursor only moves
 * past a contiguous run of acknowledged batches.
 */
export interface ReadBatch {
  readonly records: readonly Buffer[];
  /** Sum of the records' lengths. */
  readonly bytes: number;
}

export interface ReadLimits {
  /** At most this many records. */
  readonly maxEvents: number;
  /** At most this many bytes of records (a single larger record is returned alone). */
  readonly maxBytes: number;
  /** Once one record is available, wait at most this long for more before returning. */
  readonly lingerMs: number;
}

export interface EventBuffer {
  /**
   * Appends records; resolves once they are durable per the buffer's fsync
   * policy. When full it blocks (rejects with `ShipBufferFullError`, which
   * sources turn into 503 + Retry-After) or drops oldest/newest, counted.
   */
  append(records: readonly Buffer[]): Promise<void>;
  /**
   * Hands out the next unread batch, waiting until a record exists. Rejects
   * with the signal's reason when aborted.
   */
  read(limits: ReadLimits, signal: AbortSignal): Promise<ReadBatch>;
  /** Marks a batch from `read` delivered. */
  ack(batch: ReadBatch): Promise<void>;
  /** Records appended and not yet acknowledged. */
  readonly pendingEvents: number;
  readonly pendingBytes: number;
  /** Appends waiting for room in a full buffer (`whenFull: block`). */
  readonly waitingAppends: number;
  /** Flushes and closes files; pending reads reject. */
  close(): Promise<void>;
}
