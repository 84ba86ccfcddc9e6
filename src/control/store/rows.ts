/** Maps stored rows (SQLite or PostgreSQL, same column names) to the command model (times as ISO strings). */
import type { Command, CommandStatus, DeliveryTarget } from '../command.ts';
import type { Agent } from './store.ts';

export interface CommandRow {
  seq: number;
  id: string;
  request_id: string;
  source: string;
  user: string | null;
  target_type: string;
  target_id: string;
  group_name: string | null;
  action: string;
  args: string;
  action_version: string;
  timeout_s: number;
  status: string;
  result: string | null;
  created_at: number;
  deadline_at: number;
  sent_at: number | null;
  finished_at: number | null;
  claim: string | null;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

export function toCommand(row: CommandRow): Command {
  return {
    id: row.id,
    requestId: row.request_id,
    source: row.source,
    user: row.user,
    target: { type: row.target_type, id: row.target_id } as DeliveryTarget,
    group: row.group_name,
    action: { name: row.action, args: JSON.parse(row.args), version: row.action_version },
    timeoutS: row.timeout_s,
    status: row.status as CommandStatus,
    result: row.result === null ? null : JSON.parse(row.result),
    createdAt: new Date(row.created_at).toISOString(),
    deadlineAt: new Date(row.deadline_at).toISOString(),
    sentAt: iso(row.sent_at),
    finishedAt: iso(row.finished_at),
  };
}

export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq)).toString('base64url');
}

export function decodeCursor(cursor: string): number | undefined {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^\d{1,15}$/.test(text) ? Number(text) : undefined;
}

export interface TargetRow {
  target_type: string;
  target_id: string;
}

/** The distinct delivery targets of some rows, in first-seen order. */
export function distinctTargets(rows: TargetRow[]): DeliveryTarget[] {
  const seen = new Map<string, DeliveryTarget>();
  for (const row of rows) {
    const key = `${row.target_type}:${row.target_id}`;
    if (!seen.has(key))
      seen.set(key, { type: row.target_type, id: row.target_id } as DeliveryTarget);
  }
  return [...seen.values()];
}

export interface AgentRow {
  id: string;
  name: string;
  created_at: number;
  last_seen_at: number | null;
  revoked_at: number | null;
  token_expires_at: number | null;
}

/** An agent from its row and its groups (read as JSON text by SQLite, as an array by PostgreSQL). */
export function toAgent(row: AgentRow, groups: string[]): Agent {
  return {
    id: row.id,
    name: row.name,
    groups,
    createdAt: new Date(row.created_at).toISOString(),
    lastSeenAt: iso(row.last_seen_at),
    revokedAt: iso(row.revoked_at),
    tokenExpiresAt: iso(row.token_expires_at),
  };
}
