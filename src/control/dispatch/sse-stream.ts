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
 * replaces this one.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DeliveryTarget, targetKey } from '../command.ts';
import type { Batch, Delivery } from './delivery.ts';
import type { Waiter, WaiterRegistry } from './waiter-registry.ts';

const HEARTBEAT = ': heartbeat\n\n';

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
    this.#heartbeat = setInterval(() => this.#res.write(HEARTBEAT), heartbeatMs);
    this.#registry.add(this);
    this.wake();
  }

  wake(): void {
    if (this.#isClosed) return;
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
  }

  close(reason: 'shutdown' | 'replaced' | 'gone'): void {
    if (this.#isClosed) return;
    this.#finish();
    if (reason !== 'gone' && !this.#res.destroyed) {
      // At shutdown the connection goes too: a keep-alive socket that turns idle
      // after the listener began closing would otherwise wait out its timeout.
      const socket = this.#req.socket;
      this.#res.end(`: closed (${reason})\n\n`, () => {
        if (reason === 'shutdown') socket.end();
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
