/**
 * last_seen_at on PostgreSQL, written in bursts. Every agent request may
 * touch its agent (at most every few seconds each), and after a group command
 * thousands of agents poll again at once: one UPDATE per touch would queue
 * thousands of statements for a handful of pooled connections, ahead of the
 * claims and sent marks of the deliveries still in flight. Touches arriving
 * while one batch is in flight go together as one statement (coalescer.ts);
 * an agent touched twice in one batch keeps the later time.
 */
import type pg from 'pg';
import { Coalescer } from './coalescer.ts';
import { query } from './pool.ts';

interface Touch {
  id: string;
  now: number;
}

export class AgentTouches {
  readonly #batches: Coalescer<Touch, void>;

  constructor(pool: pg.Pool) {
    this.#batches = new Coalescer(async (touches) => {
      const latest = new Map<string, number>();
      for (const { id, now } of touches) latest.set(id, Math.max(now, latest.get(id) ?? now));
      await query(
        pool,
        `UPDATE agents a SET last_seen_at = t.seen
         FROM unnest($1::text[], $2::bigint[]) AS t(id, seen) WHERE a.id = t.id`,
        [[...latest.keys()], [...latest.values()]],
      );
      return touches.map(() => undefined);
    });
  }

  touch(id: string, now: number): Promise<void> {
    return this.#batches.call({ id, now });
  }
}
