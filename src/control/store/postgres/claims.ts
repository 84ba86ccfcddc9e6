/**
 * Claims on PostgreSQL. A claim picks the target's oldest claimable rows
 * with `FOR UPDATE SKIP LOCKED`: two nodes claiming for one target at once
 * each lock different rows instead of waiting on (or double-taking) the
 * same ones. Claimable: pending, before its deadline, and unclaimed or with
 * a lapsed lease. Statements that make commands claimable again (release,
 * lapsed leases) NOTIFY their targets in the same transaction.
 *
 * Claims and sent marks are the statements a burst multiplies (a group
 * command wakes every waiter on the node at once), so those arriving while
 * one is in flight go together as one statement (coalescer.ts).
 */
import type pg from 'pg';
import { type Command, type DeliveryTarget, targetKey } from '../../command.ts';
import { type CommandRow, distinctTargets, type TargetRow, toCommand } from '../rows.ts';
import type { ClaimHolder } from '../store.ts';
import { Coalescer } from './coalescer.ts';
import { notifyTargets } from './notify.ts';
import { inTransaction, query } from './pool.ts';

export const UNCLAIM = 'claim = NULL, claim_owner = NULL, lease_until = NULL';
const CLAIMABLE = `status = 'pending' AND (claim IS NULL OR lease_until <= $1) AND deadline_at > $1`;

interface ClaimAsk {
  target: DeliveryTarget;
  holder: ClaimHolder;
  limit: number;
  now: number;
}

const CLAIM_MANY = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::int[], $7::bigint[])
      AS r(target_type, target_id, token, owner, lease_until, lim, now)
  ), picked AS (
    SELECT c.seq, r.token, r.owner, r.lease_until FROM r CROSS JOIN LATERAL (
      SELECT seq FROM commands WHERE target_type = r.target_type AND target_id = r.target_id
        AND status = 'pending' AND (claim IS NULL OR lease_until <= r.now) AND deadline_at > r.now
      ORDER BY seq LIMIT r.lim FOR UPDATE SKIP LOCKED) c
  )
  UPDATE commands SET claim = p.token, claim_owner = p.owner, lease_until = p.lease_until
  FROM picked p WHERE commands.seq = p.seq
  RETURNING commands.*`;

interface SentMark {
  ids: string[];
  claimToken: string;
  now: number;
}

export class PgClaims {
  readonly #pool: pg.Pool;
  readonly #nodeId: string;
  readonly #sent: Coalescer<SentMark, number>;
  readonly #claims: Coalescer<ClaimAsk, Command[]>;

  constructor(pool: pg.Pool, nodeId: string) {
    this.#pool = pool;
    this.#nodeId = nodeId;
    this.#sent = new Coalescer((marks) => this.#markSent(marks));
    this.#claims = new Coalescer((asks) => this.#claimMany(asks));
  }

  claim(
    target: DeliveryTarget,
    holder: ClaimHolder,
    limit: number,
    now: number,
  ): Promise<Command[]> {
    return this.#claims.call({ target, holder, limit, now });
  }

  /**
   * Claims for many waiters in as few statements as it can: one per round,
   * each round at most one ask per target (two asks of one target in one
   * statement would pick the same rows: a transaction's own row locks are
   * not skipped).
   */
  async #claimMany(asks: ClaimAsk[]): Promise<Command[][]> {
    const results: Command[][] = asks.map(() => []);
    let remaining = asks.map((_, i) => i);
    while (remaining.length > 0) {
      const seen = new Set<string>();
      const round: number[] = [];
      const later: number[] = [];
      for (const i of remaining) {
        const key = targetKey(asks[i]!.target);
        if (seen.has(key)) later.push(i);
        else {
          seen.add(key);
          round.push(i);
        }
      }
      const byToken = new Map<string, number>();
      for (const i of round) byToken.set(asks[i]!.holder.token, i);
      const picked = round.map((i) => asks[i]!);
      const { rows } = await query<CommandRow>(this.#pool, CLAIM_MANY, [
        picked.map((a) => a.target.type),
        picked.map((a) => a.target.id),
        picked.map((a) => a.holder.token),
        picked.map((a) => a.holder.owner),
        picked.map((a) => a.holder.leaseUntil),
        picked.map((a) => a.limit),
        picked.map((a) => a.now),
      ]);
      rows.sort((x, y) => x.seq - y.seq);
      for (const row of rows) results[byToken.get(row.claim!)!]!.push(toCommand(row));
      remaining = later;
    }
    return results;
  }

  markSent(ids: string[], claimToken: string, now: number): Promise<number> {
    return this.#sent.call({ ids, claimToken, now });
  }

  /** Every waiting mark in one statement; each caller learns how many of its ids changed. */
  async #markSent(marks: SentMark[]): Promise<number[]> {
    const ids: string[] = [];
    const tokens: string[] = [];
    const times: number[] = [];
    for (const mark of marks) {
      for (const id of mark.ids) {
        ids.push(id);
        tokens.push(mark.claimToken);
        times.push(mark.now);
      }
    }
    const { rows } = await query<{ id: string }>(
      this.#pool,
      `UPDATE commands c SET status = 'sent', sent_at = m.sent_at, ${UNCLAIM}
       FROM unnest($1::text[], $2::text[], $3::bigint[]) AS m(id, claim, sent_at)
       WHERE c.id = m.id AND c.claim = m.claim AND c.status = 'pending'
       RETURNING c.id`,
      [ids, tokens, times],
    );
    const changed = new Set(rows.map((r) => r.id));
    return marks.map((mark) => mark.ids.filter((id) => changed.has(id)).length);
  }

  async release(ids: string[], claimToken: string): Promise<number> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<TargetRow>(
        `UPDATE commands SET ${UNCLAIM} WHERE id = ANY($1) AND status = 'pending' AND claim = $2
         RETURNING target_type, target_id`,
        [ids, claimToken],
      );
      await this.#notify(client, distinctTargets(rows));
      return rows.length;
    });
  }

  async renewLeases(claimTokens: string[], leaseUntil: number): Promise<number> {
    if (claimTokens.length === 0) return 0;
    const { rowCount } = await query(
      this.#pool,
      `UPDATE commands SET lease_until = $1 WHERE claim = ANY($2) AND status = 'pending'`,
      [leaseUntil, claimTokens],
    );
    return rowCount ?? 0;
  }

  async releaseLapsed(now: number): Promise<DeliveryTarget[]> {
    return inTransaction(this.#pool, async (client) => {
      // SKIP LOCKED: a row another node is settling right now is its business.
      const { rows } = await client.query<TargetRow>(
        `UPDATE commands SET ${UNCLAIM} WHERE seq IN (
           SELECT seq FROM commands WHERE claim IS NOT NULL AND lease_until <= $1
           FOR UPDATE SKIP LOCKED)
         RETURNING target_type, target_id`,
        [now],
      );
      const targets = distinctTargets(rows);
      await this.#notify(client, targets);
      return targets;
    });
  }

  async claimableTargets(now: number): Promise<DeliveryTarget[]> {
    const { rows } = await query<TargetRow>(
      this.#pool,
      `SELECT DISTINCT target_type, target_id FROM commands WHERE ${CLAIMABLE}`,
      [now],
    );
    return distinctTargets(rows);
  }

  async #notify(client: pg.ClientBase, targets: DeliveryTarget[]): Promise<void> {
    if (targets.length === 0) return;
    await notifyTargets(
      client,
      this.#nodeId,
      targets.map((t) => `${t.type}:${t.id}`),
    );
  }
}
