/**
 * Claims a batch of one target's pending commands for one waiter, within the
 * response caps (count and bytes), and settles it after the write: `sent`
 * once the bytes were handed to a live socket, back to `pending` (and the
 * target woken again) when the write failed or the client was gone.
 *
 * The diagnostics channel "keepwire:control:before-write" is published just
 * before each write with {commands, socket}; it costs nothing without a
 * subscriber, and lets tests and tracing see (or break) the exact moment a
 * command meets its connection.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import type { Logger } from '../../telemetry/index.ts';
import { type Command, type DeliveryTarget, targetKey, toDelivery } from '../command.ts';
import type { ControlMetrics } from '../control-metrics.ts';
import type { CommandNotifier } from '../notifier.ts';
import type { Store } from '../store/store.ts';
import type { UuidV7Generator } from '../uuid-v7.ts';

export const beforeWriteChannel = diagnosticsChannel.channel('keepwire:control:before-write');

export interface DeliveryLimits {
  maxCommandsPerResponse: number;
  maxResponseBytes: number;
}

export interface Batch {
  readonly target: DeliveryTarget;
  readonly claimToken: string;
  readonly commands: Command[];
  /** Each command as the JSON an agent receives, in order. */
  readonly payloads: string[];
}

export class Delivery {
  readonly #store: Store;
  readonly #notifier: CommandNotifier;
  readonly #metrics: ControlMetrics;
  readonly #ids: UuidV7Generator;
  readonly #now: () => number;
  readonly #limits: DeliveryLimits;
  readonly logError: (error: unknown, what: string) => void;
  readonly #logger: Logger | undefined;

  constructor(deps: {
    store: Store;
    notifier: CommandNotifier;
    metrics: ControlMetrics;
    ids: UuidV7Generator;
    now: () => number;
    limits: DeliveryLimits;
    logError: (error: unknown, what: string) => void;
    /** Debug lines for each command sent or given back to pending. */
    logger?: Logger;
  }) {
    this.#store = deps.store;
    this.#notifier = deps.notifier;
    this.#metrics = deps.metrics;
    this.#ids = deps.ids;
    this.#now = deps.now;
    this.#limits = deps.limits;
    this.logError = deps.logError;
    this.#logger = deps.logger;
  }

  newClaimToken(): string {
    return this.#ids.next();
  }

  /** Claims up to the caps; an empty batch means nothing is pending. */
  async claim(target: DeliveryTarget, claimToken: string): Promise<Batch> {
    const claimed = await this.#store.claim(
      target,
      claimToken,
      this.#limits.maxCommandsPerResponse,
      this.#now(),
    );
    const commands: Command[] = [];
    const payloads: string[] = [];
    let bytes = 0;
    const over: Command[] = [];
    for (const command of claimed) {
      const payload = JSON.stringify(toDelivery(command));
      bytes += Buffer.byteLength(payload) + 1;
      if (commands.length > 0 && bytes > this.#limits.maxResponseBytes) {
        over.push(command);
        continue;
      }
      commands.push(command);
      payloads.push(payload);
    }
    if (over.length > 0)
      await this.#store.release(
        over.map((c) => c.id),
        claimToken,
      );
    return { target, claimToken, commands, payloads };
  }

  /** Publishes the before-write event; answers whether the socket is still usable. */
  isWritable(batch: Batch, socket: Socket | null): boolean {
    if (beforeWriteChannel.hasSubscribers)
      beforeWriteChannel.publish({ commands: batch.commands, socket });
    return socket !== null && !socket.destroyed && socket.writable;
  }

  /** The write reached the socket: mark the batch sent. */
  confirm(batch: Batch): void {
    const now = this.#now();
    this.#store
      .markSent(
        batch.commands.map((c) => c.id),
        batch.claimToken,
        now,
      )
      .then(
        (count) => {
          if (count === 0) return;
          this.#metrics.transitions.inc({ status: 'sent' }, count);
          this.#logTransitions(batch, 'sent');
          for (const command of batch.commands) {
            this.#metrics.deliverySeconds.observe((now - Date.parse(command.createdAt)) / 1000);
          }
        },
        (error) => this.logError(error, 'marking commands sent'),
      );
  }

  /** The write failed or the client left: back to pending, and try the target's other waiters. */
  giveBack(batch: Batch): void {
    if (batch.commands.length === 0) return;
    this.#metrics.writeFailures.inc();
    this.#store
      .release(
        batch.commands.map((c) => c.id),
        batch.claimToken,
      )
      .then(
        () => {
          this.#logTransitions(batch, 'pending');
          this.#notifier.publish([targetKey(batch.target)]);
        },
        (error) => this.logError(error, 'returning commands to pending'),
      );
  }

  #logTransitions(batch: Batch, status: 'sent' | 'pending'): void {
    if (!this.#logger?.isLevelEnabled('debug')) return;
    const target = targetKey(batch.target);
    for (const command of batch.commands) {
      this.#logger.debug(
        { command: command.id, target, action: command.action.name, status },
        status === 'sent'
          ? 'command transition'
          : 'command transition (write failed, back to pending)',
      );
    }
  }
}
