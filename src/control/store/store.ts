/**
 * The narrow interface every command store implements (sqlite/ for one node,
 * postgres/ for several); `contract.ts` is the suite both pass. Rules that
 * are not storage (fingerprints, replays of client ids, group expansion)
 * live in the command service, so both stores share them.
 *
 * Invariants an implementation keeps:
 * - insertCommands is one transaction: every request's commands or none. A
 *   request id or command id already stored fails the whole call with
 *   RequestTakenError, decided by the database's unique constraint (its
 *   error code, never its message), so two nodes racing on one client id
 *   cannot both insert.
 * - claim marks up to `limit` claimable commands of one target with the
 *   claim token, its owner (the node) and a lease, atomically: two claims
 *   never get the same command. Claimable: pending, before its deadline,
 *   and unclaimed or with a lease that has run out. markSent and release act
 *   only on rows still pending under that token; renewLeases extends the
 *   leases of claims still in flight. A node that dies leaves claims whose
 *   leases run out; the command is then claimable again, by any node.
 * - Every write that makes a command claimable (insert, release, a lease
 *   found run out) tells the other nodes (PostgreSQL: NOTIFY in the same
 *   transaction); the caller wakes its own waiters after the call returns.
 * - finish accepts a result for a pending or sent command of that exact
 *   target; a repeat of the same final status is answered with the stored
 *   command (results are idempotent by id).
 * - Times are epoch milliseconds passed in by the caller (an injected clock).
 */
import type { Command, CommandResult, CommandStatus, DeliveryTarget } from '../command.ts';

export interface Agent {
  id: string;
  name: string;
  groups: string[];
  createdAt: string;
  lastSeenAt: string | null;
  /** When its token was revoked; a revoked agent never authenticates again. */
  revokedAt: string | null;
  /** When its token stops being accepted; null: never. */
  tokenExpiresAt: string | null;
}

export interface NewAgent {
  id: string;
  name: string;
  tokenHash: string;
  groups: string[];
  /** When the token stops being accepted (epoch ms); absent or null: never. */
  tokenExpiresAt?: number | null;
}

/** One create request, expanded and with every server-side field decided. */
export interface NewRequest {
  requestId: string;
  /** sha256 of the canonical request body, compared when a client id repeats. */
  fingerprint: string;
  /** Its commands, status pending, one per delivery target. */
  commands: Command[];
}

export interface StoredRequest {
  fingerprint: string;
  commands: Command[];
}

/** Who holds a claim: the claim token of one waiter on one node. */
export interface ClaimHolder {
  token: string;
  /** The node's id, kept with the claim so an operator can see whose it is. */
  owner: string;
  /** When the claim lapses unless renewed (epoch ms). */
  leaseUntil: number;
}

export interface CommandFilter {
  status?: CommandStatus | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Commands expanded from this group. */
  group?: string | undefined;
  action?: string | undefined;
  /** Opaque, from a previous page's nextCursor. */
  cursor?: string | undefined;
  limit: number;
}

export interface CommandPage {
  commands: Command[];
  nextCursor: string | null;
}

export interface FinishOutcome {
  command: Command;
  /** False when the same result had already been recorded. */
  isNew: boolean;
}

export interface Store {
  /**
   * Gets the store ready once, before use: migrations that need a round trip,
   * and subscribing to wake-ups from other nodes, handed to onKeys as target
   * keys (with, after each reconnect, every target that has claimable
   * commands, since notifications sent meanwhile are lost). onResubscribed
   * is called after each reconnect, for what else a node may have missed
   * (a revoked or rotated token).
   */
  start(onKeys: (keys: string[]) => void, onResubscribed?: () => void): Promise<void>;
  enrolAgent(agent: NewAgent, now: number): Promise<Agent>;
  /** The agent holding this token hash, revoked ones included (revokedAt says so). */
  findAgentByTokenHash(tokenHash: string): Promise<Agent | undefined>;
  /**
   * Marks the agent revoked at `now` (once: a repeat keeps the first time);
   * its record and history stay. PostgreSQL tells the other nodes in the same
   * transaction (key "revoked:agent:ID"). Undefined when there is no such agent.
   */
  revokeAgent(id: string, now: number): Promise<Agent | undefined>;
  /**
   * Replaces the token hash (and its expiry) of an agent that is not revoked, so the old token
   * fails at once (PostgreSQL tells the other nodes: "rotated:agent:ID").
   * Undefined when no such agent is there unrevoked.
   */
  rotateAgentToken(
    id: string,
    tokenHash: string,
    tokenExpiresAt: number | null,
  ): Promise<Agent | undefined>;
  getAgent(id: string): Promise<Agent | undefined>;
  listAgents(): Promise<Agent[]>;
  touchAgent(id: string, now: number): Promise<void>;
  addMember(group: string, agentId: string, now: number): Promise<void>;
  /** Returns false when the agent was not a member. */
  removeMember(group: string, agentId: string): Promise<boolean>;
  /** The group's members that are not revoked (those a group command reaches). */
  listMembers(group: string): Promise<string[]>;

  insertCommands(requests: NewRequest[], now: number): Promise<void>;
  findRequest(requestId: string): Promise<StoredRequest | undefined>;
  getCommand(id: string): Promise<Command | undefined>;
  listCommands(filter: CommandFilter): Promise<CommandPage>;
  countByStatus(): Promise<Map<CommandStatus, number>>;

  claim(
    target: DeliveryTarget,
    holder: ClaimHolder,
    limit: number,
    now: number,
  ): Promise<Command[]>;
  markSent(ids: string[], claimToken: string, now: number): Promise<number>;
  release(ids: string[], claimToken: string): Promise<number>;
  /** Extends the leases of these claim tokens (claims in flight); returns the rows renewed. */
  renewLeases(claimTokens: string[], leaseUntil: number): Promise<number>;
  /**
   * Clears claims whose lease ran out before `now` (their node died or hung),
   * and returns the targets that have claimable commands again.
   */
  releaseLapsedClaims(now: number): Promise<DeliveryTarget[]>;
  /** Targets with claimable commands: what a node re-checks after missing wake-ups. */
  claimableTargets(now: number): Promise<DeliveryTarget[]>;

  finish(
    id: string,
    target: DeliveryTarget,
    status: 'success' | 'failure',
    result: CommandResult,
    now: number,
  ): Promise<FinishOutcome>;
  cancel(id: string, now: number): Promise<Command>;
  /** Pending or sent commands past their deadline become expired; returns them. */
  expire(now: number): Promise<Command[]>;

  close(): Promise<void>;
}
