/**
 * The dedicated LISTEN connection (a pooled connection cannot hold a
 * subscription: it goes back to the pool). When the connection drops (the
 * server restarts, the network breaks) it reconnects with a growing delay,
 * subscribes again, and only then calls onSubscribed, so the store can look
 * for everything that became claimable while nobody was listening: a
 * notification sent while disconnected is lost for good, the rows are not.
 * Notifications this node sent itself are skipped; it woke its own waiters
 * already.
 */
import pg from 'pg';
import { CHANNEL, parsePayload } from './notify.ts';

export interface ListenerOptions {
  config: pg.ClientConfig;
  nodeId: string;
  reconnectMaxDelayMs: number;
  onKeys(keys: string[]): void;
  /** After every successful (re)subscription, the first one included. */
  onSubscribed(isReconnect: boolean): void;
  logError(error: unknown, what: string): void;
}

const FIRST_DELAY_MS = 50;

export class PgListener {
  readonly #o: ListenerOptions;
  #client: pg.Client | undefined;
  #timer: NodeJS.Timeout | undefined;
  #delayMs = FIRST_DELAY_MS;
  #isClosed = false;
  #reconnects = 0;

  constructor(options: ListenerOptions) {
    this.#o = options;
  }

  /** How many times the connection was opened again after a loss. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** Connects and subscribes; rejects if the first attempt fails. */
  async start(): Promise<void> {
    await this.#connect();
  }

  async #connect(): Promise<void> {
    const client = new pg.Client(this.#o.config);
    let isLost = false;
    const lost = (error?: Error) => {
      if (isLost || this.#isClosed) return;
      isLost = true;
      if (error) this.#o.logError(error, 'the store LISTEN connection');
      client.end().catch(() => {
        // Ending a connection that already failed reports that failure again: nothing new.
      });
      if (this.#client === client) this.#client = undefined;
      this.#schedule();
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || message.payload === undefined) return;
      const { nodeId, keys } = parsePayload(message.payload);
      if (nodeId !== this.#o.nodeId && keys.length > 0) this.#o.onKeys(keys);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      isLost = true;
      client.end().catch(() => {
        // As above: the connect error is the one that matters.
      });
      throw error;
    }
    if (this.#isClosed) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#delayMs = FIRST_DELAY_MS;
    this.#o.onSubscribed(this.#reconnects > 0);
  }

  #schedule(): void {
    if (this.#isClosed || this.#timer !== undefined) return;
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#delayMs * 2, this.#o.reconnectMaxDelayMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#reconnects += 1;
      this.#connect().catch((error) => {
        this.#o.logError(error, 'reconnecting the store LISTEN connection');
        this.#schedule();
      });
    }, delay);
  }

  async close(): Promise<void> {
    this.#isClosed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end();
  }
}
