/**
 * An in-memory EventBuffer: a bounded queue of records with the same
 * read/ack semantics as the disk buffer, minus durability. Records handed
 * out by `read` stay pending until acknowledged; batches may be acknowledged
 * out of order. Used for `buffer: {type: memory}` and by tests of the driver.
 *
 * When full (`maxEvents` pending) it blocks as the disk buffer does: the
 * append waits for room (first come first served, room-waiters.ts) up to
 * `retryAfterMs`, then rejects with ShipBufferFullError (which intake answers
 * with 503 + Retry-After); or it drops the oldest unread or the newest
 * records, counted through `onDrop`.
 */
import { ShipAppendTooLargeError, ShipBufferFullError } from '../errors.ts';
import type { EventBuffer, ReadBatch, ReadLimits } from './buffer.ts';
import { ReadWaiter } from './read-waiter.ts';
import { RoomWaiters } from './room-waiters.ts';

export type WhenFull = 'block' | 'dropOldest' | 'dropNewest';

export interface MemoryBufferOptions {
  readonly maxEvents: number;
  readonly whenFull?: WhenFull;
  /** Called with how many records were dropped and why. */
  readonly onDrop?: (count: number, reason: 'buffer_full_oldest' | 'buffer_full_newest') => void;
  /** Under `block`, how long an append waits for room before it is refused, and the Retry-After given. */
  readonly retryAfterMs?: number;
}

interface Batch extends ReadBatch {
  readonly records: Buffer[];
}

export class MemoryBuffer implements EventBuffer {
  readonly #maxEvents: number;
  readonly #whenFull: WhenFull;
  readonly #onDrop: MemoryBufferOptions['onDrop'];
  readonly #retryAfterMs: number;
  /** Records not yet handed out. */
  #unread: Buffer[] = [];
  #unreadHead = 0;
  readonly #inFlight = new Set<Batch>();
  #pendingEvents = 0;
  #pendingBytes = 0;
  #unreadBytes = 0;
  #isClosed = false;
  readonly #waiter = new ReadWaiter();
  readonly #room = new RoomWaiters();

  constructor(options: MemoryBufferOptions) {
    this.#maxEvents = options.maxEvents;
    this.#whenFull = options.whenFull ?? 'block';
    this.#onDrop = options.onDrop;
    this.#retryAfterMs = options.retryAfterMs ?? 1000;
  }

  get pendingEvents(): number {
    return this.#pendingEvents;
  }

  get pendingBytes(): number {
    return this.#pendingBytes;
  }

  /** Appends waiting for room under `block`. */
  get waitingAppends(): number {
    return this.#room.count;
  }

  async append(records: readonly Buffer[]): Promise<void> {
    if (this.#isClosed) throw new Error('buffer is closed');
    if (this.#whenFull === 'block') {
      if (records.length > this.#maxEvents) {
        throw new ShipAppendTooLargeError(
          `${records.length} events are more than the memory buffer can ever hold (maxEvents ${this.#maxEvents}); split the request into smaller ones, or raise the buffer's maxEvents`,
        );
      }
      // An append that finds others waiting queues behind them, even if it fits.
      if (this.#pendingEvents + records.length > this.#maxEvents || this.#room.hasWaiters) {
        return this.#room.wait(
          records.length,
          this.#retryAfterMs,
          async () => this.#take(records),
          () =>
            this.#isClosed
              ? new Error('buffer is closed')
              : new ShipBufferFullError(
                  `memory buffer full (${this.#pendingEvents} of ${this.#maxEvents} events pending) and no room came within ${this.#retryAfterMs} ms; the sink is not keeping up`,
                  this.#retryAfterMs,
                ),
        );
      }
      this.#take(records);
      return;
    }
    let accepted: readonly Buffer[] = records;
    const room = this.#maxEvents - this.#pendingEvents;
    if (records.length > room) {
      if (this.#whenFull === 'dropNewest') {
        accepted = records.slice(0, Math.max(0, room));
        this.#onDrop?.(records.length - accepted.length, 'buffer_full_newest');
      } else {
        this.#dropOldest(records.length - room);
        if (records.length > this.#maxEvents) {
          accepted = records.slice(records.length - this.#maxEvents);
          this.#onDrop?.(records.length - accepted.length, 'buffer_full_oldest');
        }
      }
    }
    this.#take(accepted);
  }

  /** Queues `accepted` (synchronously: the room it takes is gone before anyone else is admitted). */
  #take(accepted: readonly Buffer[]): void {
    for (const record of accepted) {
      this.#unread.push(record);
      this.#pendingEvents += 1;
      this.#pendingBytes += record.length;
      this.#unreadBytes += record.length;
    }
    if (accepted.length > 0) this.#waiter.wake();
  }

  /** Drops up to `count` unread records (in-flight ones are already being sent). */
  #dropOldest(count: number): void {
    let dropped = 0;
    while (dropped < count && this.#unreadHead < this.#unread.length) {
      const record = this.#unread[this.#unreadHead++]!;
      this.#pendingEvents -= 1;
      this.#pendingBytes -= record.length;
      this.#unreadBytes -= record.length;
      dropped += 1;
    }
    this.#compact();
    if (dropped > 0) this.#onDrop?.(dropped, 'buffer_full_oldest');
  }

  #compact(): void {
    if (this.#unreadHead > 1024 && this.#unreadHead * 2 > this.#unread.length) {
      this.#unread = this.#unread.slice(this.#unreadHead);
      this.#unreadHead = 0;
    }
  }

  async read(limits: ReadLimits, signal: AbortSignal): Promise<ReadBatch> {
    // Readers woken together all pass the wait; the ones that come after the
    // winner took everything wait again instead of returning an empty batch.
    do {
      await this.#waiter.waitFor(
        () => this.#unreadHead < this.#unread.length,
        limits,
        signal,
        () => this.#isFull(limits),
      );
      if (this.#isClosed) throw new Error('buffer is closed');
    } while (this.#unreadHead >= this.#unread.length);
    const records: Buffer[] = [];
    let bytes = 0;
    while (this.#unreadHead < this.#unread.length && records.length < limits.maxEvents) {
      const record = this.#unread[this.#unreadHead]!;
      if (records.length > 0 && bytes + record.length > limits.maxBytes) break;
      records.push(record);
      bytes += record.length;
      this.#unreadHead += 1;
    }
    this.#unreadBytes -= bytes;
    this.#compact();
    const batch: Batch = { records, bytes };
    this.#inFlight.add(batch);
    return batch;
  }

  #isFull(limits: ReadLimits): boolean {
    const available = this.#unread.length - this.#unreadHead;
    return available >= limits.maxEvents || this.#unreadBytes >= limits.maxBytes;
  }

  async ack(batch: ReadBatch): Promise<void> {
    if (!this.#inFlight.delete(batch as Batch)) return;
    this.#pendingEvents -= batch.records.length;
    this.#pendingBytes -= batch.bytes;
    this.#room.admit((events) => this.#pendingEvents + events <= this.#maxEvents);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    this.#room.refuseAll();
    this.#waiter.close(new Error('buffer is closed'));
  }
}
