/**
 * What the management, agent and component routes call: creation with
 * argument validation and idempotent ids, results, cancel, the expiry
 * sweep, enrolment. It publishes committed targets to the notifier only
 * after the store call that committed them has returned. With a logger,
 * each command's transition is a debug line (created, finished, cancelled,
 * expired; sent and given back are Delivery's).
 *
 * The rules of creation live here, not in a store, so every store shares
 * them: the fingerprint (sha256 of the canonical body), the answer to a
 * repeated client id (the stored commands when the fingerprint matches,
 * CommandConflictError when not), and group expansion (one command per
 * member agent, read when the request is made). The store then inserts
 * every request of a call in one transaction; when two callers race on one
 * client id (two nodes), the store's unique constraint refuses the second,
 * which then looks again and answers as a repeat.
 */
import { createHash } from 'node:crypto';
import { generateToken, hashToken } from '../auth/token.ts';
import type { Logger } from '../telemetry/index.ts';
import { validateArgs } from './actions.ts';
import {
  type Command,
  type CommandResult,
  type CreateCommand,
  type DeliveryTarget,
  type Target,
  targetKey,
  tokenEndKey,
} from './command.ts';
import type { ControlMetrics } from './control-metrics.ts';
import {
  AgentNotFoundError,
  AgentRevokedError,
  CommandConflictError,
  GroupEmptyError,
} from './errors.ts';
import type { CommandNotifier } from './notifier.ts';
import type { Agent, CommandFilter, CommandPage, NewRequest, Store } from './store/store.ts';
import type { UuidV7Generator } from './uuid-v7.ts';

export interface CommandServiceDeps {
  store: Store;
  notifier: CommandNotifier;
  metrics: ControlMetrics;
  ids: UuidV7Generator;
  now: () => number;
  defaultTimeoutS: number;
  logger?: Logger;
}

export interface CreateOutcome {
  commands: Command[];
  /** Delivery targets of commands actually inserted (to wake their waiters). */
  created: DeliveryTarget[];
  /** True when every request was a repeat of an earlier one. */
  isReplay: boolean;
}

interface PreparedRequest {
  request: CreateCommand;
  fingerprint: string;
  timeoutS: number;
}

/** How often a create is tried again after losing a race on a client id. */
const RACE_RETRIES = 2;

export class CommandService {
  readonly #d: CommandServiceDeps;

  constructor(deps: CommandServiceDeps) {
    this.#d = deps;
  }

  get store(): Store {
    return this.#d.store;
  }

  async create(requests: CreateCommand[]): Promise<CreateOutcome> {
    const prepared = requests.map((request, index): PreparedRequest => {
      const field = requests.length > 1 ? `commands.${index}.action.args` : 'action.args';
      const args = validateArgs(request.action.name, request.action.args, field);
      const normalised = { ...request, action: { ...request.action, args } };
      const fingerprint = createHash('sha256').update(canonicalJson(normalised)).digest('hex');
      return {
        request: normalised,
        fingerprint,
        timeoutS: request.timeoutS ?? this.#d.defaultTimeoutS,
      };
    });
    const outcome = await this.#createPrepared(prepared);
    if (outcome.created.length > 0) {
      this.#d.metrics.transitions.inc({ status: 'pending' }, outcome.created.length);
      const keys = new Set<string>();
      for (const target of outcome.created) keys.add(targetKey(target));
      this.#d.notifier.publish([...keys]);
      if (!outcome.isReplay) for (const command of outcome.commands) this.#transition(command);
    }
    return outcome;
  }

  async #createPrepared(prepared: PreparedRequest[]): Promise<CreateOutcome> {
    for (let attempt = 0; ; attempt += 1) {
      const now = this.#d.now();
      const commands: Command[] = [];
      const created: DeliveryTarget[] = [];
      const inserts: NewRequest[] = [];
      const inBatch = new Map<string, NewRequest>();
      let replays = 0;
      for (const item of prepared) {
        const clientId = item.request.id;
        const stored =
          clientId === undefined
            ? undefined
            : (inBatch.get(clientId) ?? (await this.#d.store.findRequest(clientId)));
        if (stored !== undefined) {
          if (stored.fingerprint !== item.fingerprint) throw new CommandConflictError(clientId!);
          commands.push(...stored.commands);
          replays += 1;
          continue;
        }
        const insert = this.#build(item, await this.#expand(item.request.target), now);
        inserts.push(insert);
        if (clientId !== undefined) inBatch.set(clientId, insert);
        commands.push(...insert.commands);
        for (const command of insert.commands) created.push(command.target);
      }
      try {
        if (inserts.length > 0) await this.#d.store.insertCommands(inserts, now);
      } catch (error) {
        // Another caller stored one of these ids first: look again (a repeat
        // is then answered as one); a conflict that persists is the caller's.
        if (error instanceof CommandConflictError && attempt < RACE_RETRIES) continue;
        throw error;
      }
      return { commands, created, isReplay: replays === prepared.length };
    }
  }

  async #expand(target: Target): Promise<DeliveryTarget[]> {
    if (target.type === 'component') return [{ type: 'component', id: target.id }];
    if (target.type === 'agent') {
      const agent = await this.#d.store.getAgent(target.id);
      if (agent === undefined) throw new AgentNotFoundError(target.id);
      if (agent.revokedAt !== null) throw new AgentRevokedError(target.id);
      return [{ type: 'agent', id: target.id }];
    }
    const members = await this.#d.store.listMembers(target.id);
    if (members.length === 0) throw new GroupEmptyError(target.id);
    return members.map((id) => ({ type: 'agent', id }));
  }

  #build(item: PreparedRequest, targets: DeliveryTarget[], now: number): NewRequest {
    const { request, timeoutS } = item;
    const requestId = request.id ?? this.#d.ids.next();
    const group = request.target.type === 'group' ? request.target.id : null;
    const createdAt = new Date(now).toISOString();
    const deadlineAt = new Date(now + timeoutS * 1000).toISOString();
    const commands = targets.map(
      (target): Command => ({
        id: group === null && request.id !== undefined ? request.id : this.#d.ids.next(),
        requestId,
        source: request.source,
        user: request.user ?? null,
        target,
        group,
        action: { ...request.action },
        timeoutS,
        status: 'pending',
        result: null,
        createdAt,
        deadlineAt,
        sentAt: null,
        finishedAt: null,
      }),
    );
    return { requestId, fingerprint: item.fingerprint, commands };
  }

  async finish(
    id: string,
    target: DeliveryTarget,
    status: 'success' | 'failure',
    result: CommandResult,
  ): Promise<Command> {
    const outcome = await this.#d.store.finish(id, target, status, result, this.#d.now());
    if (outcome.isNew) {
      this.#d.metrics.transitions.inc({ status });
      this.#transition(outcome.command);
    }
    return outcome.command;
  }

  async cancel(id: string): Promise<Command> {
    const command = await this.#d.store.cancel(id, this.#d.now());
    this.#d.metrics.transitions.inc({ status: 'cancelled' });
    this.#transition(command);
    return command;
  }

  get(id: string): Promise<Command | undefined> {
    return this.#d.store.getCommand(id);
  }

  list(filter: CommandFilter): Promise<CommandPage> {
    return this.#d.store.listCommands(filter);
  }

  async expire(): Promise<number> {
    const expired = await this.#d.store.expire(this.#d.now());
    if (expired.length > 0) {
      this.#d.metrics.expired.inc(expired.length);
      this.#d.metrics.transitions.inc({ status: 'expired' }, expired.length);
      for (const command of expired) this.#transition(command);
    }
    return expired.length;
  }

  /** Claims whose node died or hung: pending again, and their targets woken here. */
  async releaseLapsedClaims(): Promise<number> {
    const targets = await this.#d.store.releaseLapsedClaims(this.#d.now());
    if (targets.length > 0) this.#d.notifier.publish(targets.map(targetKey));
    return targets.length;
  }

  #transition(command: Command): void {
    this.#d.logger?.debug(
      {
        command: command.id,
        target: targetKey(command.target),
        action: command.action.name,
        status: command.status,
      },
      'command transition',
    );
  }

  addMember(group: string, agentId: string): Promise<void> {
    return this.#d.store.addMember(group, agentId, this.#d.now());
  }

  /** A new agent and its token (returned once), valid for ttlS seconds when given. */
  async enrol(
    name: string,
    groups: string[],
    ttlS?: number,
  ): Promise<{ agent: Agent; token: string }> {
    const token = generateToken();
    const now = this.#d.now();
    const agent = await this.#d.store.enrolAgent(
      {
        id: this.#d.ids.next(),
        name,
        tokenHash: hashToken(token),
        groups,
        tokenExpiresAt: expiryOf(now, ttlS),
      },
      now,
    );
    return { agent, token };
  }

  /**
   * Revokes the agent's token; its open long-polls and SSE streams end at
   * once (here through the notifier, on other nodes through the store).
   */
  async revoke(id: string): Promise<Agent> {
    const agent = await this.#d.store.revokeAgent(id, this.#d.now());
    if (agent === undefined) throw new AgentNotFoundError(id);
    this.#d.notifier.publish([tokenEndKey('revoked', id)]);
    return agent;
  }

  /** A new token for the agent, returned once; the old one fails at once, its waits end. */
  async rotate(id: string, ttlS?: number): Promise<{ agent: Agent; token: string }> {
    const token = generateToken();
    const expiresAt = expiryOf(this.#d.now(), ttlS);
    const agent = await this.#d.store.rotateAgentToken(id, hashToken(token), expiresAt);
    if (agent === undefined) {
      if ((await this.#d.store.getAgent(id)) === undefined) throw new AgentNotFoundError(id);
      throw new AgentRevokedError(id);
    }
    this.#d.notifier.publish([tokenEndKey('rotated', id)]);
    return { agent, token };
  }
}

function expiryOf(now: number, ttlS: number | undefined): number | null {
  return ttlS === undefined ? null : now + ttlS * 1000;
}

/** JSON with object keys sorted, so equal bodies hash equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
