/**
 * What a source sees of the pipeline: one function that appends records to
 * every buffer the source is routed to and resolves once all are durable.
 * It rejects with ShipBufferFullError when a buffer blocks.
 */
export type AppendRecords = (records: readonly Buffer[]) => Promise<void>;

/** A running source, as the ship plane starts and stops it. */
export interface Source {
  start(): Promise<unknown>;
  /** Stops accepting input; what was accepted is already durable. */
  stop(): Promise<void>;
}
