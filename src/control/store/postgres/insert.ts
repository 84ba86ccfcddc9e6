/**
 * Inserts one create request: its row in `requests` (the unique request
 * id), then all its commands in one statement over arrays (a group of
 * thousands of members is one round trip, in member order).
 */
import type pg from 'pg';
import type { NewRequest } from '../store.ts';

export async function insertRequest(
  client: pg.ClientBase,
  request: NewRequest,
  now: number,
): Promise<void> {
  await client.query(
    'INSERT INTO requests (request_id, fingerprint, created_at) VALUES ($1, $2, $3)',
    [request.requestId, request.fingerprint, now],
  );
  const first = request.commands[0];
  if (first === undefined) return;
  await client.query(
    `INSERT INTO commands (id, request_id, source, "user", target_type, target_id, group_name,
       action, args, action_version, timeout_s, status, created_at, deadline_at)
     SELECT t.id, $4, $5, $6, t.target_type, t.target_id, $7, $8, $9, $10, $11, 'pending', $12, $13
     FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(id, target_type, target_id, n)
     ORDER BY t.n`,
    [
      request.commands.map((c) => c.id),
      request.commands.map((c) => c.target.type),
      request.commands.map((c) => c.target.id),
      request.requestId,
      first.source,
      first.user,
      first.group,
      first.action.name,
      JSON.stringify(first.action.args),
      first.action.version,
      first.timeoutS,
      Date.parse(first.createdAt),
      Date.parse(first.deadlineAt),
    ],
  );
}
