/**
 * The command store on PostgreSQL, for several nodes sharing one database.
 * The same contract as the SQLite store (store.ts); what differs is how it
 * keeps it with other writers around:
 * - uniqueness (agent names, request and command ids) is decided by unique
 *   constraints, read back by SQLSTATE 23505 and the constraint's name;
 * - claims use FOR UPDATE SKIP LOCKED and leases (claims.ts);
 * - every insert NOTIFYs its targets inside its transaction, and `listen`
 *   keeps a dedicated connection that hears other nodes (listener.ts);
 * - the pool reconnects; a call made while the server is away fails with
 *   StoreUnavailableError (503, retryable) instead of hanging.
 */
import type pg from 'pg';
import type { PostgresStoreConfig } from '../../../config/store.ts';
import { BadRequestError } from '../../../errors.ts';
import {
  type Command,
  type CommandResult,
  type CommandStatus,
  type DeliveryTarget,
  FINAL_STATUSES,
  targetKey,
} from '../../command.ts';
import {
  AgentNameTakenError,
  AgentNotFoundError,
  CommandConflictError,
  CommandFinishedError,
  CommandNotFoundError,
} from '../../errors.ts';
import {
  type AgentRow,
  type CommandRow,
  decodeCursor,
  encodeCursor,
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
import { revokeAgent, rotateAgentToken } from './agent-tokens.ts';
import { AgentTouches } from './agent-touches.ts';
import { PgClaims, UNCLAIM } from './claims.ts';
import { Coalescer } from './coalescer.ts';
import { mapConnectionError, uniqueViolation } from './errors.ts';
import { insertInTransaction, singleStatement } from './insert.ts';
import { PgListener } from './listener.ts';
import { migrate } from './migrations.ts';
import { connectionConfig, createPool, inTransaction, query } from './pool.ts';

export interface PostgresStoreOptions {
  config: PostgresStoreConfig;
  /** This node's id: the owner of its claims and the sender of its notifications. */
  nodeId: string;
  now?: () => number;
  logError?: (error: unknown, what: string) => void;
  logInfo?: (message: string) => void;
}

interface PgAgentRow extends AgentRow {
  token_hash: string;
  groups: string[];
}

const AGENT_SELECT = `SELECT a.id, a.name, a.token_hash, a.created_at, a.last_seen_at, a.revoked_at, a.token_expires_at,
  ARRAY(SELECT group_name FROM memberships m WHERE m.agent_id = a.id ORDER BY group_name) AS groups
  FROM agents a`;

export class PostgresStore implements Store {
  readonly #pool: pg.Pool;
  readonly #claims: PgClaims;
  readonly #touches: AgentTouches;
  readonly #o: PostgresStoreOptions;
  readonly #logError: (error: unknown, what: string) => void;
  #listener: PgListener | undefined;
  /** Every agent request authenticates: lookups arriving together go as one statement. */
  readonly #byToken = new Coalescer<string, Agent | undefined>(async (hashes) => {
    const { rows } = await query<PgAgentRow>(
      this.#pool,
      `${AGENT_SELECT} WHERE a.token_hash = ANY($1)`,
      [hashes],
    );
    const found = new Map(rows.map((row) => [row.token_hash, agentOf(row)]));
    return hashes.map((hash) => found.get(hash));
  });

  constructor(options: PostgresStoreOptions) {
    this.#o = options;
    this.#logError = options.logError ?? (() => {});
    this.#pool = createPool(options.config, this.#logError);
    this.#claims = new PgClaims(this.#pool, options.nodeId);
    this.#touches = new AgentTouches(this.#pool);
  }

  /** Reconnects of the LISTEN connection so far. */
  get listenReconnects(): number {
    return this.#listener?.reconnects ?? 0;
  }

  /**
   * Migrates (one node at a time; the others wait, then find nothing to do),
   * then subscribes: onKeys hears other nodes' wake-ups, and after every
   * (re)subscription the targets with claimable commands.
   */
  async start(onKeys: (keys: string[]) => void, onResubscribed?: () => void): Promise<void> {
    const now = this.#o.now ?? Date.now;
    await migrate(this.#pool, now());
    this.#listener = new PgListener({
      config: connectionConfig(this.#o.config),
      nodeId: this.#o.nodeId,
      reconnectMaxDelayMs: this.#o.config.reconnectMaxDelayMs,
      onKeys,
      onSubscribed: (isReconnect) => {
        if (isReconnect) {
          this.#o.logInfo?.('store LISTEN connection restored; re-checking');
          onResubscribed?.();
        }
        this.claimableTargets(now()).then(
          (targets) => {
            if (targets.length > 0) onKeys(targets.map(targetKey));
          },
          (error) => this.#logError(error, 'looking for commands missed while not listening'),
        );
      },
      logError: this.#logError,
    });
    await this.#listener.start();
  }

  async enrolAgent(agent: NewAgent, now: number): Promise<Agent> {
    await inTransaction(this.#pool, async (client) => {
      try {
        await client.query(
          'INSERT INTO agents (id, name, token_hash, token_expires_at, created_at) VALUES ($1, $2, $3, $4, $5)',
          [agent.id, agent.name, agent.tokenHash, agent.tokenExpiresAt ?? null, now],
        );
      } catch (error) {
        if (uniqueViolation(error) === 'agents_name_key') throw new AgentNameTakenError(agent.name);
        throw error;
      }
      for (const group of agent.groups) await addMember(client, group, agent.id, now);
    });
    return (await this.getAgent(agent.id))!;
  }

  findAgentByTokenHash(tokenHash: string): Promise<Agent | undefined> {
    return this.#byToken.call(tokenHash);
  }

  async getAgent(id: string): Promise<Agent | undefined> {
    const { rows } = await query<PgAgentRow>(this.#pool, `${AGENT_SELECT} WHERE a.id = $1`, [id]);
    return agentOf(rows[0]);
  }

  async listAgents(): Promise<Agent[]> {
    const { rows } = await query<PgAgentRow>(this.#pool, `${AGENT_SELECT} ORDER BY a.name`);
    return rows.map((row) => agentOf(row)!);
  }

  touchAgent(id: string, now: number): Promise<void> {
    return this.#touches.touch(id, now);
  }

  async revokeAgent(id: string, now: number): Promise<Agent | undefined> {
    await revokeAgent(this.#pool, this.#o.nodeId, id, now);
    return this.getAgent(id);
  }

  async rotateAgentToken(
    id: string,
    tokenHash: string,
    tokenExpiresAt: number | null,
  ): Promise<Agent | undefined> {
    const token = { hash: tokenHash, expiresAt: tokenExpiresAt };
    const isRotated = await rotateAgentToken(this.#pool, this.#o.nodeId, id, token);
    return isRotated ? this.getAgent(id) : undefined;
  }

  async addMember(group: string, agentId: string, now: number): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      const { rowCount } = await client.query('SELECT 1 FROM agents WHERE id = $1 FOR SHARE', [
        agentId,
      ]);
      if (rowCount === 0) throw new AgentNotFoundError(agentId);
      await addMember(client, group, agentId, now);
    });
  }

  async removeMember(group: string, agentId: string): Promise<boolean> {
    const { rowCount } = await query(
      this.#pool,
      'DELETE FROM memberships WHERE group_name = $1 AND agent_id = $2',
      [group, agentId],
    );
    return (rowCount ?? 0) > 0;
  }

  async listMembers(group: string): Promise<string[]> {
    const { rows } = await query<{ agent_id: string }>(
      this.#pool,
      `SELECT m.agent_id FROM memberships m JOIN agents a ON a.id = m.agent_id
       WHERE m.group_name = $1 AND a.revoked_at IS NULL ORDER BY m.agent_id`,
      [group],
    );
    return rows.map((r) => r.agent_id);
  }

  async insertCommands(requests: NewRequest[], now: number): Promise<void> {
    const conflict = (request: NewRequest, error: unknown) =>
      uniqueViolation(error) === undefined ? error : new CommandConflictError(request.requestId);
    const single = singleStatement(requests, this.#o.nodeId, now);
    if (single !== undefined) {
      try {
        await this.#pool.query(single.text, single.values);
      } catch (error) {
        throw mapConnectionError(conflict(requests[0]!, error));
      }
      return;
    }
    await inTransaction(this.#pool, (client) =>
      insertInTransaction(client, requests, this.#o.nodeId, now, conflict),
    );
  }

  async findRequest(requestId: string): Promise<StoredRequest | undefined> {
    const found = await query<{ fingerprint: string }>(
      this.#pool,
      'SELECT fingerprint FROM requests WHERE request_id = $1',
      [requestId],
    );
    if (found.rows.length === 0) return undefined;
    const { rows } = await query<CommandRow>(
      this.#pool,
      'SELECT * FROM commands WHERE request_id = $1 ORDER BY seq',
      [requestId],
    );
    return { fingerprint: found.rows[0]!.fingerprint, commands: rows.map(toCommand) };
  }

  async getCommand(id: string): Promise<Command | undefined> {
    const { rows } = await query<CommandRow>(this.#pool, 'SELECT * FROM commands WHERE id = $1', [
      id,
    ]);
    return rows[0] === undefined ? undefined : toCommand(rows[0]);
  }

  async listCommands(filter: CommandFilter): Promise<CommandPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (column: string, op: string, value: string | number | undefined) => {
      if (value === undefined) return;
      params.push(value);
      where.push(`${column} ${op} $${params.length}`);
    };
    add('status', '=', filter.status);
    add('target_type', '=', filter.targetType);
    add('target_id', '=', filter.targetId);
    add('action', '=', filter.action);
    add('group_name', '=', filter.group);
    if (filter.cursor !== undefined) {
      const seq = decodeCursor(filter.cursor);
      if (seq === undefined)
        throw new BadRequestError('query "cursor": not a cursor from nextCursor; start without it');
      add('seq', '<', seq);
    }
    params.push(filter.limit + 1);
    const sql = `SELECT * FROM commands ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT $${params.length}`;
    const { rows } = await query<CommandRow>(this.#pool, sql, params);
    const page = rows.slice(0, filter.limit);
    return {
      commands: page.map(toCommand),
      nextCursor: rows.length > filter.limit ? encodeCursor(page[page.length - 1]!.seq) : null,
    };
  }

  async countByStatus(): Promise<Map<CommandStatus, number>> {
    const { rows } = await query<{ status: CommandStatus; n: number }>(
      this.#pool,
      'SELECT status, COUNT(*)::bigint AS n FROM commands GROUP BY status',
    );
    return new Map(rows.map((r) => [r.status, r.n]));
  }

  claim(
    target: DeliveryTarget,
    holder: ClaimHolder,
    limit: number,
    now: number,
  ): Promise<Command[]> {
    return this.#claims.claim(target, holder, limit, now);
  }

  markSent(ids: string[], claimToken: string, now: number): Promise<number> {
    return this.#claims.markSent(ids, claimToken, now);
  }

  release(ids: string[], claimToken: string): Promise<number> {
    return this.#claims.release(ids, claimToken);
  }

  renewLeases(claimTokens: string[], leaseUntil: number): Promise<number> {
    return this.#claims.renewLeases(claimTokens, leaseUntil);
  }

  releaseLapsedClaims(now: number): Promise<DeliveryTarget[]> {
    return this.#claims.releaseLapsed(now);
  }

  claimableTargets(now: number): Promise<DeliveryTarget[]> {
    return this.#claims.claimableTargets(now);
  }

  async finish(
    id: string,
    target: DeliveryTarget,
    status: 'success' | 'failure',
    result: CommandResult,
    now: number,
  ): Promise<FinishOutcome> {
    return inTransaction(this.#pool, async (client) => {
      const { rows } = await client.query<CommandRow>(
        'SELECT * FROM commands WHERE id = $1 FOR UPDATE',
        [id],
      );
      const row = rows[0];
      if (row === undefined || row.target_type !== target.type || row.target_id !== target.id) {
        throw new CommandNotFoundError(id);
      }
      if (FINAL_STATUSES.has(row.status as CommandStatus)) {
        if (row.status === status) return { command: toCommand(row), isNew: false };
        throw new CommandFinishedError(id, row.status);
      }
      const updated = await client.query<CommandRow>(
        `UPDATE commands SET status = $1, result = $2, finished_at = $3, ${UNCLAIM}
         WHERE id = $4 RETURNING *`,
        [status, JSON.stringify(result), now, id],
      );
      return { command: toCommand(updated.rows[0]!), isNew: true };
    });
  }

  async cancel(id: string, now: number): Promise<Command> {
    const { rows } = await query<CommandRow>(
      this.#pool,
      `UPDATE commands SET status = 'cancelled', finished_at = $1, ${UNCLAIM}
       WHERE id = $2 AND status IN ('pending', 'sent') RETURNING *`,
      [now, id],
    );
    if (rows[0] !== undefined) return toCommand(rows[0]);
    const existing = await this.getCommand(id);
    if (existing === undefined) throw new CommandNotFoundError(id);
    throw new CommandFinishedError(id, existing.status);
  }

  async expire(now: number): Promise<Command[]> {
    // SKIP LOCKED: every node sweeps; a row one node is expiring (or another
    // is finishing) is skipped by the others, so each expiry is counted once.
    const { rows } = await query<CommandRow>(
      this.#pool,
      `UPDATE commands SET status = 'expired', finished_at = $1, ${UNCLAIM} WHERE seq IN (
         SELECT seq FROM commands WHERE status IN ('pending', 'sent') AND deadline_at <= $1
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [now],
    );
    return rows.map(toCommand);
  }

  async close(): Promise<void> {
    await this.#listener?.close();
    await this.#pool.end();
  }
}

async function addMember(client: pg.ClientBase, group: string, agentId: string, now: number) {
  await client.query(
    'INSERT INTO groups (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [group, now],
  );
  await client.query(
    'INSERT INTO memberships (group_name, agent_id) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [group, agentId],
  );
}

function agentOf(row: PgAgentRow | undefined): Agent | undefined {
  return row === undefined ? undefined : toAgent(row, row.groups);
}
