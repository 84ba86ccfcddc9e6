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
import { notifyTargets } from './notify.ts';
import { inTransaction, query } from './pool.ts';

export const UNCLAIM = 'claim = NULL, claim_owner = NULL, lease_until = NULL';
const CLAIMABLE = `status = 'pending' AND (claim IS NULL OR lease_until <= $1) AND deadline_at > $1`;

export class PgClaims {
  readonly #pool: pg.Pool;
  readonly #nodeId: string;

  constructor(pool: pg.Pool, nodeId: string) {
    this.#pool = pool;
    this.#nodeId = nodeId;
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

  async markSent(ids: string[], claimToken: string, now: number): Promise<number> {
    const { rowCount } = await query(
      this.#pool,
      `UPDATE commands SET status = 'sent', sent_at = $1, ${UNCLAIM}
       WHERE id = ANY($2) AND status = 'pending' AND claim = $3`,
      [now, ids, claimToken],
    );
    return rowCount ?? 0;
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
