/**
 * The narrow interface every command store implements (SQLite now,
 * PostgreSQL later); `contract.ts` is the suite each must pass.
 *
 * Invariants an implementation keeps:
 * - createCommands is one transaction: all requests, with groups expanded to
 *   one command per member agent, or nothing. A request with a client id whose
 *   commands exist is answered with those commands when its fingerprint
 *   matches, and with CommandConflictError when it does not.
 * - claim marks up to `limit` pending, unclaimed commands of one target with
 *   the claim token, atomically: two claims never get the same command.
 *   markSent and release act only on rows still pending under that token.
 * - finish accepts a result for a pending or sent command of that exact
 *   target; a repeat of the same final status is answered with the stored
 *   command (results are idempotent by id).
 * - Times are epoch milliseconds passed in by the caller (an injected clock).
 */
import type {
  Command,
  CommandResult,
  CommandStatus,
  CreateCommand,
  DeliveryTarget,
} from '../command.ts';

export interface Agent {
  id: string;
  name: string;
  groups: string[];
  createdAt: string;
  lastSeenAt: string | null;
}

export interface NewAgent {
  id: string;
  name: string;
  tokenHash: string;
  groups: string[];
}

/** A validated create request with its server-side fields decided. */
export interface NewCommandRequest {
  request: CreateCommand;
  /** sha256 of the canonical request body, compared for idempotent repeats. */
  fingerprint: string;
  timeoutS: number;
}

export interface CreateOutcome {
  commands: Command[];
  /** Delivery targets of commands actually inserted (to wake their waiters). */
  created: DeliveryTarget[];
  /** True when every request was a repeat of an earlier one. */
  isReplay: boolean;
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
  enrolAgent(agent: NewAgent, now: number): Promise<Agent>;
  findAgentByTokenHash(tokenHash: string): Promise<Agent | undefined>;
  getAgent(id: string): Promise<Agent | undefined>;
  listAgents(): Promise<Agent[]>;
  touchAgent(id: string, now: number): Promise<void>;
  addMember(group: string, agentId: string, now: number): Promise<void>;
  /** Returns false when the agent was not a member. */
  removeMember(group: string, agentId: string): Promise<boolean>;
  listMembers(group: string): Promise<string[]>;

  /** Needs a generator for ids it assigns (UUIDv7). */
  createCommands(
    requests: NewCommandRequest[],
    now: number,
    newId: () => string,
  ): Promise<CreateOutcome>;
  getCommand(id: string): Promise<Command | undefined>;
  listCommands(filter: CommandFilter): Promise<CommandPage>;
  countByStatus(): Promise<Map<CommandStatus, number>>;

  claim(target: DeliveryTarget, claimToken: string, limit: number, now: number): Promise<Command[]>;
  markSent(ids: string[], claimToken: string, now: number): Promise<number>;
  release(ids: string[], claimToken: string): Promise<number>;
  /** Drops every claim: a single node calls it at start, after a crash. */
  releaseAllClaims(): Promise<number>;

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
