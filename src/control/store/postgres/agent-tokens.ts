/**
 * Revoking and rotating an agent's token on PostgreSQL. Each tells the other
 * nodes in the same transaction ("revoked:agent:ID" or "rotated:agent:ID" on the
 * wake-up channel),
 * so each node ends that agent's open long-polls and SSE streams as soon as
 * the change commits; new requests fail everywhere because every request
 * looks its token up in the database.
 */
import type pg from 'pg';
import { tokenEndKey } from '../../command.ts';
import { notifyTargets } from './notify.ts';
import { inTransaction } from './pool.ts';

/** Marks the agent revoked unless it already is. */
export async function revokeAgent(
  pool: pg.Pool,
  nodeId: string,
  id: string,
  now: number,
): Promise<void> {
  await inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE agents SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL',
      [now, id],
    );
    if ((rowCount ?? 0) > 0) await notifyTargets(client, nodeId, [tokenEndKey('revoked', id)]);
  });
}

/** Replaces the token hash and expiry of an unrevoked agent; false when there is none. */
export async function rotateAgentToken(
  pool: pg.Pool,
  nodeId: string,
  id: string,
  token: { hash: string; expiresAt: number | null },
): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rowCount } = await client.query(
      'UPDATE agents SET token_hash = $1, token_expires_at = $2 WHERE id = $3 AND revoked_at IS NULL',
      [token.hash, token.expiresAt, id],
    );
    if ((rowCount ?? 0) === 0) return false;
    await notifyTargets(client, nodeId, [tokenEndKey('rotated', id)]);
    return true;
  });
}
