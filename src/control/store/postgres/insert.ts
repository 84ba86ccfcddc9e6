/**
 * Inserts create requests: a row in `requests` (the unique request id), then
 * all of a request's commands in one statement over arrays (a group of
 * thousands of members is one round trip, in member order), and the NOTIFY
 * of their targets.
 *
 * The common case, one request whose targets fit one notification, is a
 * single statement (data-modifying CTEs and pg_notify): atomic on its own,
 * one round trip instead of five (BEGIN, two inserts, NOTIFY, COMMIT).
 */
import type pg from 'pg';
import { targetKey } from '../../command.ts';
import type { NewRequest } from '../store.ts';
import { CHANNEL, notifyTargets, singlePayload } from './notify.ts';

const INSERT_COMMANDS = `INSERT INTO commands (id, request_id, source, "user", target_type, target_id,
    group_name, action, args, action_version, timeout_s, status, created_at, deadline_at)
  SELECT t.id, $4, $5, $6, t.target_type, t.target_id, $7, $8, $9, $10, $11, 'pending', $12, $13
  FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(id, target_type, target_id, n)
  ORDER BY t.n`;

function commandParams(request: NewRequest): unknown[] {
  const first = request.commands[0]!;
  return [
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
  ];
}

/** Target keys of the requests' commands, each once. */
export function targetKeys(requests: NewRequest[]): Set<string> {
  const keys = new Set<string>();
  for (const request of requests) for (const c of request.commands) keys.add(targetKey(c.target));
  return keys;
}

/** The single-statement insert of one request, or undefined when it needs a transaction. */
export function singleStatement(
  requests: NewRequest[],
  nodeId: string,
  now: number,
): { text: string; values: unknown[] } | undefined {
  const request = requests[0];
  if (requests.length !== 1 || request === undefined || request.commands.length === 0) return;
  const payload = singlePayload(nodeId, targetKeys(requests));
  if (payload === undefined) return;
  return {
    text: `WITH r AS (INSERT INTO requests (request_id, fingerprint, created_at) VALUES ($4, $14, $15)),
      c AS (${INSERT_COMMANDS})
      SELECT pg_notify($16, $17)`,
    values: [...commandParams(request), request.fingerprint, now, CHANNEL, payload],
  };
}

/** Inserts inside the caller's transaction, and notifies every target. */
export async function insertInTransaction(
  client: pg.ClientBase,
  requests: NewRequest[],
  nodeId: string,
  now: number,
  onUniqueViolation: (request: NewRequest, error: unknown) => unknown,
): Promise<void> {
  for (const request of requests) {
    try {
      await client.query(
        'INSERT INTO requests (request_id, fingerprint, created_at) VALUES ($1, $2, $3)',
        [request.requestId, request.fingerprint, now],
      );
      if (request.commands.length > 0) await client.query(INSERT_COMMANDS, commandParams(request));
    } catch (error) {
      throw onUniqueViolation(request, error);
    }
  }
  await notifyTargets(client, nodeId, targetKeys(requests));
}
