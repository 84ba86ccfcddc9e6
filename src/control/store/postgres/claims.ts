/**
 * Claims on PostgreSQL. A claim picks the target's oldest claimable rows
 * with `FOR UPDATE SKIP LOCKED`: two nodes claiming for one target at once
 * each lock different rows instead of waiting on (or double-taking) the
 * same ones. Claimable: pending, before its deadline, and unclaimed or with
 * a lapsed lease. Statements that make commands claimable again (release,
 * lapsed leases) NOTIFY their targets in the same transaction.
 */
import type pg from 'pg';
import type { Command, DeliveryTarget } from '../../command.ts';
import { type CommandRow, distinctTargets, type TargetRow, toCommand } from '../rows.ts';
import type { ClaimHolder } from '../store.ts';
import { Coalescer } from './coalescer.ts';
import { notifyTargets } from './notify.ts';
import { inTransaction, query } from './pool.ts';

export const UNCLAIM = 'claim = NULL, claim_owner = NULL, lease_until = NULL';
const CLAIMABLE = `status = 'pending' AND (claim IS NULL OR lease_until <= $1) AND deadline_at > $1`;

interface SentMark {
  ids: string[];
  claimToken: string;
  now: number;
}

export class PgClaims {
  readonly #pool: pg.Pool;
  readonly #nodeId: string;
  readonly #sent: Coalescer<SentMark, number>;

  constructor(pool: pg.Pool, nodeId: string) {
    this.#pool = pool;
    this.#nodeId = nodeId;
    this.#sent = new Coalescer((marks) => this.#markSent(marks));
  }

  async claim(
    target: DeliveryTarget,
    holder: ClaimHolder,
    limit: number,
    now: number,
  ): Promise<Command[]> {
    const { rows } = await query<CommandRow>(
      this.#pool,
      `UPDATE commands SET claim = $2, claim_owner = $3, lease_until = $4 WHERE seq IN (
         SELECT seq FROM commands WHERE target_type = $5 AND target_id = $6 AND ${CLAIMABLE}
         ORDER BY seq LIMIT $7 FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now, holder.token, holder.owner, holder.leaseUntil, target.type, target.id, limit],
    );
    if (rows.length > 1) rows.sort((a, b) => a.seq - b.seq);
    return rows.map(toCommand);
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
