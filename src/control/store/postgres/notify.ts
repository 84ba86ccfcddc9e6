/**
 * Wake-ups across nodes: NOTIFY on one channel per database, sent inside the
 * transaction that made commands claimable, so a listener hears it exactly
 * when the rows are visible (PostgreSQL delivers notifications at commit,
 * and drops them on rollback).
 *
 * Payload: the sending node's id, then one target key per line
 * ("agent:ID", "component:NAME"). A payload must stay under 8,000 bytes,
 * so a large group's keys go out in several notifications.
 */
import type pg from 'pg';

export const CHANNEL = 'keepwire_commands';
const MAX_PAYLOAD_BYTES = 7_500;

export async function notifyTargets(
  client: pg.ClientBase,
  nodeId: string,
  keys: Iterable<string>,
): Promise<void> {
  let payload = nodeId;
  let count = 0;
  for (const key of keys) {
    if (count > 0 && Buffer.byteLength(payload) + Buffer.byteLength(key) + 1 > MAX_PAYLOAD_BYTES) {
      await client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
      payload = nodeId;
      count = 0;
    }
    payload += `\n${key}`;
    count += 1;
  }
  if (count > 0) await client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
}

/** The whole payload for these keys when it fits one notification. */
export function singlePayload(nodeId: string, keys: Set<string>): string | undefined {
  const payload = [nodeId, ...keys].join('\n');
  return Buffer.byteLength(payload) <= MAX_PAYLOAD_BYTES ? payload : undefined;
}

/** The sender and target keys of a payload from notifyTargets. */
export function parsePayload(payload: string): { nodeId: string; keys: string[] } {
  const [nodeId = '', ...keys] = payload.split('\n');
  return { nodeId, keys };
}
