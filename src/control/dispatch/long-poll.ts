/**
 * One long-poll: registers a waiter for its target, answers 200 with
 * {"commands": [...]} as soon as it claims any, or 204 when its wait ends.
 * The waiter is registered before the first claim, so a commit between the
 * two still wakes it. A client that disconnects is removed at once ('close').
 * A wait whose token is revoked, rotated or expires meanwhile is answered 401 at once.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type DeliveryTarget, type TokenEnd, targetKey } from '../command.ts';
import { AgentTokenExpiredError, AgentTokenRevokedError } from '../errors.ts';
import type { Batch, Delivery } from './delivery.ts';
import type { Waiter, WaiterRegistry } from './waiter-registry.ts';

const JSON_HEAD = '{"commands":[';
const JSON_TAIL = ']}';
const ROTATED_MESSAGE =
  'the token of this wait was replaced ("keepwire agents rotate") while it waited; use the new token';

export class LongPoll implements Waiter {
  readonly key: string;
  readonly kind = 'poll' as const;
  readonly #target: DeliveryTarget;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #registry: WaiterRegistry;
  readonly #delivery: Delivery;
  readonly #claimToken: string;
  #timer: NodeJS.Timeout | undefined;
  #isDone = false;
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
    this.#claimToken = deps.delivery.newClaimToken();
  }

  get isGone(): boolean {
    return this.#res.destroyed || this.#req.socket.destroyed;
  }

  /** Starts waiting up to waitS seconds (0: answer at once). */
  start(waitS: number): void {
    this.#res.once('close', () => this.#finish());
    this.#registry.add(this);
    this.#timer = setTimeout(() => this.close('timeout'), waitS * 1000);
    this.wake();
  }

  wake(): void {
    if (this.#isDone) return;
    if (this.#isClaiming) {
      this.#isWokenAgain = true;
      return;
    }
    this.#isClaiming = true;
    this.#delivery.claim(this.#target, this.#claimToken).then(
      (batch) => this.#claimed(batch),
      (error) => {
        this.#isClaiming = false;
        this.#fail(error);
      },
    );
  }

  #claimed(batch: Batch): void {
    this.#isClaiming = false;
    if (batch.commands.length === 0) {
      if (this.#isWokenAgain) {
        this.#isWokenAgain = false;
        this.wake();
      }
      return;
    }
    if (this.#isDone) {
      this.#delivery.giveBack(batch);
      return;
    }
    this.#finish();
    if (!this.#delivery.isWritable(batch, this.#req.socket)) {
      this.#delivery.giveBack(batch);
      return;
    }
    const body = JSON_HEAD + batch.payloads.join(',') + JSON_TAIL;
    let isSettled = false;
    this.#res.once('finish', () => {
      isSettled = true;
      this.#delivery.confirm(batch);
    });
    this.#res.once('close', () => {
      if (isSettled) return;
      isSettled = true;
      this.#delivery.giveBack(batch);
    });
    this.#res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
    });
    this.#res.end(body);
  }

  close(reason: 'shutdown' | 'replaced' | 'gone' | 'timeout' | TokenEnd): void {
    if (this.#isDone) return;
    this.#finish();
    if (reason === 'gone' || this.#res.destroyed) return;
    if (reason === 'revoked' || reason === 'rotated' || reason === 'expired') {
      // The token it came with no longer holds: 401, as its next request would get.
      const error =
        reason === 'revoked'
          ? new AgentTokenRevokedError()
          : reason === 'expired'
            ? new AgentTokenExpiredError()
            : { code: 'UNAUTHORIZED', message: ROTATED_MESSAGE };
      this.#res.writeHead(401, { 'content-type': 'application/json', connection: 'close' });
      this.#res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
      return;
    }
    this.#res.writeHead(204, reason === 'shutdown' ? { connection: 'close' } : {});
    this.#res.end();
  }

  #fail(error: unknown): void {
    this.#delivery.logError(error, 'claiming commands');
    if (this.#isDone) return;
    this.#finish();
    if (this.#res.destroyed) return;
    this.#res.writeHead(500, { 'content-type': 'application/json' });
    this.#res.end(JSON.stringify({ error: { code: 'INTERNAL', message: 'internal error' } }));
  }

  #finish(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    clearTimeout(this.#timer);
    this.#registry.remove(this);
  }
}
