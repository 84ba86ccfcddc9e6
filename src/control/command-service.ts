/**
 * What the management, agent and component routes call: creation with
 * argument validation and idempotent ids, results, cancel, the expiry
 * sweep, enrolment. It publishes committed targets to the notifier only
 * after the store call that committed them has returned. With a logger,
 * each command's transition is a debug line (created, finished, cancelled,
 * expired; sent and given back are Delivery's).
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
  targetKey,
} from './command.ts';
import type { ControlMetrics } from './control-metrics.ts';
import type { CommandNotifier } from './notifier.ts';
import type { Agent, CommandFilter, CommandPage, CreateOutcome, Store } from './store/store.ts';
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

export class CommandService {
  readonly #d: CommandServiceDeps;

  constructor(deps: CommandServiceDeps) {
    this.#d = deps;
  }

  get store(): Store {
    return this.#d.store;
  }

  async create(requests: CreateCommand[]): Promise<CreateOutcome> {
    const prepared = requests.map((request, index) => {
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
    const outcome = await this.#d.store.createCommands(prepared, this.#d.now(), () =>
      this.#d.ids.next(),
    );
    if (outcome.created.length > 0) {
      this.#d.metrics.transitions.inc({ status: 'pending' }, outcome.created.length);
      const keys = new Set<string>();
      for (const target of outcome.created) keys.add(targetKey(target));
      this.#d.notifier.publish([...keys]);
      if (!outcome.isReplay) for (const command of outcome.commands) this.#transition(command);
    }
    return outcome;
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

  async enrol(name: string, groups: string[]): Promise<{ agent: Agent; token: string }> {
    const token = generateToken();
    const agent = await this.#d.store.enrolAgent(
      { id: this.#d.ids.next(), name, tokenHash: hashToken(token), groups },
      this.#d.now(),
    );
    return { agent, token };
  }
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
