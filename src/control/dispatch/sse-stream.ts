/**
 * One server-sent-events stream per target. Each command is an event:
 *
 *   id: <command id>
 *   event: command
 *   data: <the command as JSON>
 *
 * and ": heartbeat" comment lines keep idle proxies and NATs from dropping
 * the stream. A batch is marked sent when its write callback reports the
 * bytes handed to the socket; a failed write or a closed stream returns
 * every unsettled batch to pending. A newer stream of the same target
 * replaces this one. A stream whose token is revoked, rotated or expires ends at once
 * (": closed (revoked)" or ": closed (rotated)", then
 * the connection), and its agent's next request
 * is refused 401.
 *
 * Backpressure: while `write()` has returned false (the agent reads slower
 * than commands come) nothing more is claimed and no heartbeat is written;
 * commands wait in the store, pending, and the stream goes on at 'drain'.
 * What is queued is therefore at most one burst; a stream that queues more
 * than MAX_QUEUED_BYTES, or stays undrained for MAX_STALLED_HEARTBEATS
 * heartbeats, is closed, and its unsettled commands go back to pending.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DeliveryTarget, type TokenEnd, targetKey } from '../command.ts';
import type { Batch, Delivery } from './delivery.ts';
import type { Waiter, WaiterRegistry } from './waiter-registry.ts';

const HEARTBEAT = ': heartbeat\n\n';
/** Bytes queued on one stream above which it is closed. */
export const MAX_QUEUED_BYTES = 8 * 1024 * 1024;
/** Heartbeat intervals a stream may stay undrained before it is closed. */
export const MAX_STALLED_HEARTBEATS = 4;

export class SseStream implements Waiter {
  readonly key: string;
  readonly kind = 'sse' as const;
  readonly #target: DeliveryTarget;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #registry: WaiterRegistry;
  readonly #delivery: Delivery;
  readonly #unsettled = new Set<Batch>();
  #heartbeat: NodeJS.Timeout | undefined;
  #isClosed = false;
  #isClaiming = false;
  #isWokenAgain = false;
  #isAwaitingDrain = false;
  #stalledHeartbeats = 0;

  constructor(
    req: IncomingMessage,
    res: ServerResponse,
    target: DeliveryTarget,
    deps: { registry: WaiterRegistry; delivery: Delivery },
  ) {
    this.#req = req;
    this.#res = res;
    this.#target = target;
    this.key = targetKey(target);
    this.#registry = deps.registry;
    this.#delivery = deps.delivery;
  }

  get isGone(): boolean {
    return this.#res.destroyed || this.#req.socket.destroyed;
  }

  start(heartbeatMs: number): void {
    this.#res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    this.#res.write(': connected\nretry: 2000\n\n');
    this.#res.once('close', () => {
      this.#finish();
      // Writes whose callback never came (the socket died first) go back to pending.
      for (const batch of this.#unsettled) this.#delivery.giveBack(batch);
      this.#unsettled.clear();
    });
    this.#res.on('drain', () => {
      this.#stalledHeartbeats = 0;
      if (!this.#isAwaitingDrain) return;
      this.#isAwaitingDrain = false;
      this.wake();
    });
    this.#heartbeat = setInterval(() => this.#beat(), heartbeatMs);
    this.#registry.add(this);
    this.wake();
  }

  wake(): void {
    if (this.#isClosed) return;
    if (this.#res.writableNeedDrain) {
      this.#isAwaitingDrain = true;
      return;
    }
    if (this.#isClaiming) {
      this.#isWokenAgain = true;
      return;
    }
    this.#isClaiming = true;
    this.#delivery.claim(this.#target, this.#delivery.newClaimToken()).then(
      (batch) => this.#claimed(batch),
      (error) => {
        this.#isClaiming = false;
        this.#delivery.logError(error, 'claiming commands');
      },
    );
  }

  #claimed(batch: Batch): void {
    this.#isClaiming = false;
    const isEmpty = batch.commands.length === 0;
    if (!isEmpty) this.#send(batch);
    // A full batch may have left more behind; a wake during the claim may have brought more.
    if (!this.#isClosed && (!isEmpty || this.#isWokenAgain)) {
      this.#isWokenAgain = false;
      this.wake();
    }
  }

  #send(batch: Batch): void {
    if (this.#isClosed || !this.#delivery.isWritable(batch, this.#req.socket)) {
      this.#delivery.giveBack(batch);
      return;
    }
    let chunk = '';
    for (let i = 0; i < batch.commands.length; i += 1) {
      chunk += `id: ${batch.commands[i]!.id}\nevent: command\ndata: ${batch.payloads[i]}\n\n`;
    }
    this.#unsettled.add(batch);
    this.#res.write(chunk, (error) => {
      if (!this.#unsettled.delete(batch)) return;
      if (error) this.#delivery.giveBack(batch);
      else this.#delivery.confirm(batch);
    });
    if (this.#res.writableLength > MAX_QUEUED_BYTES) this.#drop();
  }

  #beat(): void {
    if (!this.#res.writableNeedDrain) {
      this.#res.write(HEARTBEAT);
      return;
    }
    this.#stalledHeartbeats += 1;
    if (this.#stalledHeartbeats >= MAX_STALLED_HEARTBEATS) this.#drop();
  }

  /** An agent that does not read: cut it; 'close' returns its unsettled commands to pending. */
  #drop(): void {
    this.#finish();
    this.#res.destroy();
  }

  close(reason: 'shutdown' | 'replaced' | 'gone' | TokenEnd): void {
    if (this.#isClosed) return;
    this.#finish();
    if (reason !== 'gone' && !this.#res.destroyed) {
      // At shutdown the connection goes too: a keep-alive socket that turns idle
      // after the listener began closing would otherwise wait out its timeout.
      const socket = this.#req.socket;
      this.#res.end(`: closed (${reason})\n\n`, () => {
        if (reason !== 'replaced') socket.end();
      });
    }
  }

  #finish(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    clearInterval(this.#heartbeat);
    this.#registry.remove(this);
  }
}
