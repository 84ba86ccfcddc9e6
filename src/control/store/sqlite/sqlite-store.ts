/**
 * The command store on node:sqlite (DatabaseSync): one connection, WAL mode
 * so readers never block the writer, a busy timeout for other processes
 * (the CLI never opens the file, but backups may), and every write in one
 * short BEGIN IMMEDIATE transaction. Statements are prepared once.
 *
 * synchronous=NORMAL by default: in WAL mode a commit survives a crash of the
 * process (kill -9) and the file stays consistent across power loss, which
 * may roll back only the last transactions; FULL (configurable) fsyncs each
 * commit. The calls are synchronous underneath but the Store interface is
 * async so a networked store fits the same shape.
 */
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { BadRequestError } from '../../../errors.ts';
import type { Command, CommandResult, CommandStatus, DeliveryTarget } from '../../command.ts';
import { FINAL_STATUSES } from '../../command.ts';
import {
  AgentNameTakenError,
  AgentNotFoundError,
  CommandConflictError,
  CommandFinishedError,
  CommandNotFoundError,
  StoreError,
} from '../../errors.ts';
import {
  type AgentRow,
  type CommandRow,
  decodeCursor,
  distinctTargets,
  encodeCursor,
  type TargetRow,
  toAgent,
  toCommand,
} from '../rows.ts';
import type {
  Agent,
  ClaimHolder,
  CommandFilter,
  CommandPage,
  FinishOutcome,
  NewAgent,
  NewRequest,
  Store,
  StoredRequest,
} from '../store.ts';
import { isUniqueKeyViolation, isUniqueViolation } from './errors.ts';
import { migrate } from './migrations.ts';
import { createPrivate } from './private-file.ts';

export interface SqliteStoreOptions {
  path: string;
  synchronous?: 'normal' | 'full';
  busyTimeoutMs?: number;
  now?: () => number;
}

interface SqliteAgentRow extends AgentRow {
  groups: string | null;
}

const AGENT_SELECT = `SELECT a.id, a.name, a.created_at, a.last_seen_at, a.revoked_at, a.token_expires_at,
  (SELECT json_group_array(group_name) FROM (SELECT group_name FROM memberships m WHERE m.agent_id = a.id ORDER BY group_name)) AS groups
  FROM agents a`;

const UNCLAIM = 'claim = NULL, claim_owner = NULL, lease_until = NULL';

export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #s: Record<string, StatementSync>;

  constructor(options: SqliteStoreOptions) {
    try {
      createPrivate(options.path);
      this.#db = new DatabaseSync(options.path);
      this.#db.exec(`PRAGMA busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
      this.#db.exec('PRAGMA journal_mode = WAL');
      this.#db.exec(`PRAGMA synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.#db.exec('PRAGMA foreign_keys = ON');
      migrate(this.#db, (options.now ?? Date.now)());
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(
        `cannot open the command store ${options.path}: ${(error as Error).message}`,
        error,
      );
    }
    const p = (sql: string) => this.#db.prepare(sql);
    this.#s = {
      insertAgent: p(
        'INSERT INTO agents (id, name, token_hash, token_expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
      ),
      agentById: p(`${AGENT_SELECT} WHERE a.id = ?`),
      agentByToken: p(`${AGENT_SELECT} WHERE a.token_hash = ?`),
      agents: p(`${AGENT_SELECT} ORDER BY a.name`),
      touch: p('UPDATE agents SET last_seen_at = ? WHERE id = ?'),
      revoke: p('UPDATE agents SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
      rotate: p(
        'UPDATE agents SET token_hash = ?, token_expires_at = ? WHERE id = ? AND revoked_at IS NULL',
      ),
      insertGroup: p('INSERT OR IGNORE INTO groups (name, created_at) VALUES (?, ?)'),
      insertMember: p('INSERT OR IGNORE INTO memberships (group_name, agent_id) VALUES (?, ?)'),
      deleteMember: p('DELETE FROM memberships WHERE group_name = ? AND agent_id = ?'),
      members: p(`SELECT m.agent_id FROM memberships m JOIN agents a ON a.id = m.agent_id
        WHERE m.group_name = ? AND a.revoked_at IS NULL ORDER BY m.agent_id`),
      request: p('SELECT fingerprint FROM requests WHERE request_id = ?'),
      insertRequest: p(
        'INSERT INTO requests (request_id, fingerprint, created_at) VALUES (?, ?, ?)',
      ),
      byRequest: p('SELECT * FROM commands WHERE request_id = ? ORDER BY seq'),
      byId: p('SELECT * FROM commands WHERE id = ?'),
      insertCommand:
        p(`INSERT INTO commands (id, request_id, fingerprint, source, user, target_type,
        target_id, group_name, action, args, action_version, timeout_s, status, created_at, deadline_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)`),
      counts: p('SELECT status, COUNT(*) AS n FROM commands GROUP BY status'),
      claim: p(`UPDATE commands SET claim = ?, claim_owner = ?, lease_until = ? WHERE seq IN (
        SELECT seq FROM commands WHERE target_type = ? AND target_id = ? AND status = 'pending'
        AND (claim IS NULL OR lease_until <= ?) AND deadline_at > ? ORDER BY seq LIMIT ?) RETURNING *`),
      markSent: p(`UPDATE commands SET status = 'sent', sent_at = ?, ${UNCLAIM}
        WHERE id = ? AND status = 'pending' AND claim = ?`),
      release: p(
        `UPDATE commands SET ${UNCLAIM} WHERE id = ? AND status = 'pending' AND claim = ?`,
      ),
      renew: p(`UPDATE commands SET lease_until = ? WHERE claim = ? AND status = 'pending'`),
      releaseLapsed: p(`UPDATE commands SET ${UNCLAIM} WHERE claim IS NOT NULL AND lease_until <= ?
        RETURNING target_type, target_id`),
      claimable: p(`SELECT DISTINCT target_type, target_id FROM commands WHERE status = 'pending'
        AND (claim IS NULL OR lease_until <= ?) AND deadline_at > ?`),
      finish: p(`UPDATE commands SET status = ?, result = ?, finished_at = ?, ${UNCLAIM}
        WHERE id = ? AND status IN ('pending', 'sent') RETURNING *`),
      cancel: p(`UPDATE commands SET status = 'cancelled', finished_at = ?, ${UNCLAIM}
        WHERE id = ? AND status IN ('pending', 'sent') RETURNING *`),
      expire: p(`UPDATE commands SET status = 'expired', finished_at = ?, ${UNCLAIM}
        WHERE status IN ('pending', 'sent') AND deadline_at <= ? RETURNING *`),
    };
  }

  /** Migrated when opened; one node has no other nodes to hear from. */
  async start(): Promise<void> {}

  #transaction<T>(work: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const value = work();
      this.#db.exec('COMMIT');
      return value;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  async enrolAgent(agent: NewAgent, now: number): Promise<Agent> {
    this.#transaction(() => {
      try {
        this.#s.insertAgent!.run(
          agent.id,
          agent.name,
          agent.tokenHash,
          agent.tokenExpiresAt ?? null,
          now,
        );
      } catch (error) {
        // agents has two UNIQUE keys, name and token_hash; a token hash is a
        // SHA-256 of 32 random bytes, so only the name can collide.
        if (isUniqueKeyViolation(error)) throw new AgentNameTakenError(agent.name);
        throw error;
      }
      for (const group of agent.groups) this.#addMember(group, agent.id, now);
    });
    return (await this.getAgent(agent.id))!;
  }

  #addMember(group: string, agentId: string, now: number): void {
    this.#s.insertGroup!.run(group, now);
    this.#s.insertMember!.run(group, agentId);
  }

  async findAgentByTokenHash(tokenHash: string): Promise<Agent | undefined> {
    return agentOf(this.#s.agentByToken!.get(tokenHash) as SqliteAgentRow | undefined);
  }

  async getAgent(id: string): Promise<Agent | undefined> {
    return agentOf(this.#s.agentById!.get(id) as SqliteAgentRow | undefined);
  }

  async listAgents(): Promise<Agent[]> {
    return (this.#s.agents!.all() as unknown as SqliteAgentRow[]).map((row) => agentOf(row)!);
  }

  async touchAgent(id: string, now: number): Promise<void> {
    this.#s.touch!.run(now, id);
  }

  async revokeAgent(id: string, now: number): Promise<Agent | undefined> {
    this.#s.revoke!.run(now, id);
    return this.getAgent(id);
  }

  async rotateAgentToken(
    id: string,
    tokenHash: string,
    tokenExpiresAt: number | null,
  ): Promise<Agent | undefined> {
    if (Number(this.#s.rotate!.run(tokenHash, tokenExpiresAt, id).changes) === 0) return undefined;
    return this.getAgent(id);
  }

  async addMember(group: string, agentId: string, now: number): Promise<void> {
    this.#transaction(() => {
      if (!this.#s.agentById!.get(agentId)) throw new AgentNotFoundError(agentId);
      this.#addMember(group, agentId, now);
    });
  }

  async removeMember(group: string, agentId: string): Promise<boolean> {
    return Number(this.#s.deleteMember!.run(group, agentId).changes) > 0;
  }

  async listMembers(group: string): Promise<string[]> {
    return (this.#s.members!.all(group) as { agent_id: string }[]).map((r) => r.agent_id);
  }

  async insertCommands(requests: NewRequest[], now: number): Promise<void> {
    this.#transaction(() => {
      for (const { requestId, fingerprint, commands } of requests) {
        this.#unique(requestId, () => this.#s.insertRequest!.run(requestId, fingerprint, now));
        for (const c of commands) {
          this.#unique(c.id, () =>
            this.#s.insertCommand!.run(
              c.id,
              requestId,
              fingerprint,
              c.source,
              c.user,
              c.target.type,
              c.target.id,
              c.group,
              c.action.name,
              JSON.stringify(c.action.args),
              c.action.version,
              c.timeoutS,
              Date.parse(c.createdAt),
              Date.parse(c.deadlineAt),
            ),
          );
        }
      }
    });
  }

  #unique(id: string, insert: () => void): void {
    try {
      insert();
    } catch (error) {
      if (isUniqueViolation(error)) throw new CommandConflictError(id);
      throw error;
    }
  }

  async findRequest(requestId: string): Promise<StoredRequest | undefined> {
    const row = this.#s.request!.get(requestId) as { fingerprint: string } | undefined;
    if (row === undefined) return undefined;
    const rows = this.#s.byRequest!.all(requestId) as unknown as CommandRow[];
    return { fingerprint: row.fingerprint, commands: rows.map(toCommand) };
  }

  async getCommand(id: string): Promise<Command | undefined> {
    const row = this.#s.byId!.get(id) as CommandRow | undefined;
    return row === undefined ? undefined : toCommand(row);
  }

  async listCommands(filter: CommandFilter): Promise<CommandPage> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const add = (sql: string, value: string | number | undefined) => {
      if (value === undefined) return;
      where.push(sql);
      params.push(value);
    };
    add('status = ?', filter.status);
    add('target_type = ?', filter.targetType);
    add('target_id = ?', filter.targetId);
    add('action = ?', filter.action);
    add('group_name = ?', filter.group);
    if (filter.cursor !== undefined) {
      const seq = decodeCursor(filter.cursor);
      if (seq === undefined)
        throw new BadRequestError('query "cursor": not a cursor from nextCursor; start without it');
      add('seq < ?', seq);
    }
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`;
    const rows = this.#db.prepare(sql).all(...params, filter.limit + 1) as unknown as CommandRow[];
    const page = rows.slice(0, filter.limit);
    return {
      commands: page.map(toCommand),
      nextCursor: rows.length > filter.limit ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }

  async countByStatus(): Promise<Map<CommandStatus, number>> {
    const rows = this.#s.counts!.all() as { status: CommandStatus; n: number }[];
    return new Map(rows.map((r) => [r.status, r.n]));
  }

  async claim(
    target: DeliveryTarget,
    holder: ClaimHolder,
    limit: number,
    now: number,
  ): Promise<Command[]> {
    const { token, owner, leaseUntil } = holder;
    const rows = this.#s.claim!.all(
      ...[token, owner, leaseUntil, target.type, target.id, now, now, limit],
    ) as unknown as CommandRow[];
    if (rows.length > 1) rows.sort((a, b) => a.seq - b.seq);
    return rows.map(toCommand);
  }

  async markSent(ids: string[], claimToken: string, now: number): Promise<number> {
    return this.#eachId(ids, (id) => this.#s.markSent!.run(now, id, claimToken).changes);
  }

  async release(ids: string[], claimToken: string): Promise<number> {
    return this.#eachId(ids, (id) => this.#s.release!.run(id, claimToken).changes);
  }

  #eachId(ids: string[], run: (id: string) => number | bigint): number {
    if (ids.length === 1) return Number(run(ids[0]!));
    return this.#transaction(() => ids.reduce((sum, id) => sum + Number(run(id)), 0));
  }

  async renewLeases(claimTokens: string[], leaseUntil: number): Promise<number> {
    if (claimTokens.length === 0) return 0;
    return this.#eachId(claimTokens, (token) => this.#s.renew!.run(leaseUntil, token).changes);
  }

  async releaseLapsedClaims(now: number): Promise<DeliveryTarget[]> {
    return distinctTargets(this.#s.releaseLapsed!.all(now) as unknown as TargetRow[]);
  }

  async claimableTargets(now: number): Promise<DeliveryTarget[]> {
    return distinctTargets(this.#s.claimable!.all(now, now) as unknown as TargetRow[]);
  }

  async finish(
    id: string,
    target: DeliveryTarget,
    status: 'success' | 'failure',
    result: CommandResult,
    now: number,
  ): Promise<FinishOutcome> {
    return this.#transaction(() => {
      const row = this.#s.byId!.get(id) as CommandRow | undefined;
      if (row === undefined || row.target_type !== target.type || row.target_id !== target.id) {
        throw new CommandNotFoundError(id);
      }
      if (FINAL_STATUSES.has(row.status as CommandStatus)) {
        if (row.status === status) return { command: toCommand(row), isNew: false };
        throw new CommandFinishedError(id, row.status);
      }
      const updated = this.#s.finish!.get(
        status,
        JSON.stringify(result),
        now,
        id,
      ) as unknown as CommandRow;
      return { command: toCommand(updated), isNew: true };
    });
  }

  async cancel(id: string, now: number): Promise<Command> {
    const row = this.#s.cancel!.get(now, id) as CommandRow | undefined;
    if (row !== undefined) return toCommand(row);
    const existing = this.#s.byId!.get(id) as CommandRow | undefined;
    if (existing === undefined) throw new CommandNotFoundError(id);
    throw new CommandFinishedError(id, existing.status);
  }

  async expire(now: number): Promise<Command[]> {
    return (this.#s.expire!.all(now, now) as unknown as CommandRow[]).map(toCommand);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

function agentOf(row: SqliteAgentRow | undefined): Agent | undefined {
  return row === undefined
    ? undefined
    : toAgent(row, row.groups === null ? [] : (JSON.parse(row.groups) as string[]));
}
