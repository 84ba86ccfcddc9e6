/**
 * The dispatcher's in-process waiter registry, keyed by target
 * ("agent:ID", "component:NAME"). A commit wakes only the waiters of its
 * targets. Each waiter claims for itself in the store, so two waiters of one
 * target never get the same command. SSE streams are one per target: a new
 * stream replaces the old one. A key "revoked:agent:ID" or "rotated:agent:ID"
 * (from this node or another) ends every wait of that agent.
 */
import { parseTokenEndKey, type TokenEnd } from '../command.ts';
import type { ControlMetrics } from '../control-metrics.ts';
import type { CommandNotifier } from '../notifier.ts';

export interface Waiter {
  readonly key: string;
  readonly kind: 'poll' | 'sse';
  /** New commands for this target were committed. */
  wake(): void;
  /** The client is gone (checked by the sweep as a backstop to 'close'). */
  readonly isGone: boolean;
  /** Ends the wait: server shutdown, a replacing stream, or its token revoked, rotated or expired. */
  close(reason: 'shutdown' | 'replaced' | 'gone' | TokenEnd): void;
}

/** What revalidate needs to know of a token's agent. */
export interface TokenOwner {
  revokedAt: string | null;
}

export class WaiterRegistry {
  readonly #byKey = new Map<string, Set<Waiter>>();
  readonly #streams = new Map<string, Waiter>();
  /** Token ends heard so far (any key), and for each key the last one and its way. */
  #tokenEndCount = 0;
  readonly #tokenEnds = new Map<string, { at: number; end: TokenEnd }>();
  /** The token hash each open agent wait was authenticated with. */
  readonly #tokenHashes = new Map<Waiter, string>();
  readonly #metrics: ControlMetrics;
  readonly #unsubscribe: () => void;
  #counts = { poll: 0, sse: 0 };

  constructor(notifier: CommandNotifier, metrics: ControlMetrics) {
    this.#metrics = metrics;
    this.#metrics.waiters.set({ kind: 'poll' }, 0);
    this.#metrics.waiters.set({ kind: 'sse' }, 0);
    this.#unsubscribe = notifier.subscribe((keys) => {
      for (const key of keys) this.wake(key);
    });
  }

  get size(): number {
    return this.#counts.poll + this.#counts.sse;
  }

  hasWaiter(key: string): boolean {
    return (this.#byKey.get(key)?.size ?? 0) > 0;
  }

  add(waiter: Waiter): void {
    if (waiter.kind === 'sse') {
      const previous = this.#streams.get(waiter.key);
      this.#streams.set(waiter.key, waiter);
      if (previous !== undefined) {
        this.remove(previous);
        previous.close('replaced');
      }
    }
    let set = this.#byKey.get(waiter.key);
    if (set === undefined) {
      set = new Set();
      this.#byKey.set(waiter.key, set);
    }
    if (set.has(waiter)) return;
    set.add(waiter);
    this.#count(waiter.kind, 1);
  }

  remove(waiter: Waiter): void {
    this.#tokenHashes.delete(waiter);
    const set = this.#byKey.get(waiter.key);
    if (set === undefined || !set.delete(waiter)) return;
    if (set.size === 0) this.#byKey.delete(waiter.key);
    if (this.#streams.get(waiter.key) === waiter) this.#streams.delete(waiter.key);
    this.#count(waiter.kind, -1);
  }

  wake(key: string): void {
    const tokenEnd = parseTokenEndKey(key);
    if (tokenEnd !== undefined) {
      this.#closeKey(tokenEnd.target, tokenEnd.end);
      return;
    }
    const set = this.#byKey.get(key);
    if (set === undefined) return;
    for (const waiter of [...set]) waiter.wake();
  }

  /** Removes waiters whose clients left without a 'close' we saw; returns how many. */
  sweep(): number {
    let removed = 0;
    for (const set of [...this.#byKey.values()]) {
      for (const waiter of [...set]) {
        if (!waiter.isGone) continue;
        this.remove(waiter);
        waiter.close('gone');
        removed += 1;
      }
    }
    return removed;
  }

  /** Remembers the token hash an open wait came with (see revalidate). */
  noteToken(waiter: Waiter, tokenHash: string): void {
    if (this.#byKey.get(waiter.key)?.has(waiter)) this.#tokenHashes.set(waiter, tokenHash);
  }

  /**
   * Looks up the token of every open agent wait again and ends those whose
   * token was revoked or replaced: for token ends this node may not have
   * heard (its LISTEN connection was down). One lookup per distinct token.
   */
  async revalidate(find: (tokenHash: string) => Promise<TokenOwner | undefined>): Promise<number> {
    const byHash = new Map<string, Waiter[]>();
    for (const [waiter, hash] of this.#tokenHashes)
      byHash.set(hash, [...(byHash.get(hash) ?? []), waiter]);
    const found = await Promise.all(
      [...byHash.keys()].map(async (hash) => [hash, await find(hash)] as const),
    );
    let ended = 0;
    for (const [hash, owner] of found) {
      if (owner !== undefined && owner.revokedAt === null) continue;
      for (const waiter of byHash.get(hash)!) {
        if (!this.#tokenHashes.has(waiter)) continue;
        this.remove(waiter);
        waiter.close(owner === undefined ? 'rotated' : 'revoked');
        ended += 1;
      }
    }
    return ended;
  }

  /** A mark to take before authenticating a request (see endIfEndedSince). */
  tokenEndMark(): number {
    return this.#tokenEndCount;
  }

  /**
   * Ends this wait if its key's token ended after `mark` was taken: a wait
   * authenticated just before a revoke, and registered just after it, ends too.
   */
  endIfEndedSince(waiter: Waiter, mark: number): void {
    const ended = this.#tokenEnds.get(waiter.key);
    if (ended === undefined || ended.at <= mark) return;
    this.remove(waiter);
    waiter.close(ended.end);
  }

  #closeKey(key: string, reason: TokenEnd): void {
    this.#tokenEndCount += 1;
    this.#tokenEnds.set(key, { at: this.#tokenEndCount, end: reason });
    for (const waiter of [...(this.#byKey.get(key) ?? [])]) {
      this.remove(waiter);
      waiter.close(reason);
    }
  }

  closeAll(): void {
    this.#unsubscribe();
    for (const set of [...this.#byKey.values()]) {
      for (const waiter of [...set]) {
        this.remove(waiter);
        waiter.close('shutdown');
      }
    }
  }

  #count(kind: 'poll' | 'sse', delta: number): void {
    this.#counts[kind] += delta;
    this.#metrics.waiters.set({ kind }, this.#counts[kind]);
  }
}
