/**
 * The command model (docs/architecture.md, "Commands") and the request bodies that
 * create and finish commands. Types are inferred from the zod schemas.
 */
import { z } from 'zod';
import { COMMAND_STATUSES, type CommandStatus } from './command-status.ts';

export { COMMAND_STATUSES, type CommandStatus, FINAL_STATUSES } from './command-status.ts';

export const TARGET_TYPES = ['agent', 'group', 'component'] as const;
export type TargetType = (typeof TARGET_TYPES)[number];

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:@-]*$/,
    'use letters, digits and . _ : @ - (start with a letter or digit)',
  );

export const targetSchema = z.strictObject({ type: z.enum(TARGET_TYPES), id: name });
export type Target = z.output<typeof targetSchema>;

/** The target a command is delivered to after group expansion. */
export type DeliveryTarget = { type: 'agent' | 'component'; id: string };

/** The key the dispatcher files waiters under: "agent:ID" or "component:NAME". */
export function targetKey(target: DeliveryTarget): string {
  return `${target.type}:${target.id}`;
}

/**
 * Published (and, on PostgreSQL, notified) among target keys: end this
 * agent's waits now, its token revoked ("revoked:agent:ID") or replaced
 * ("rotated:agent:ID").
 */
export type TokenEnd = 'revoked' | 'rotated' | 'expired';

export function tokenEndKey(end: 'revoked' | 'rotated', agentId: string): string {
  return `${end}:agent:${agentId}`;
}

/** The end and target key of a tokenEndKey, or undefined for a plain target key. */
export function parseTokenEndKey(key: string): { end: TokenEnd; target: string } | undefined {
  const match = /^(revoked|rotated):(.*)$/.exec(key);
  return match === null ? undefined : { end: match[1] as TokenEnd, target: match[2]! };
}

export const createCommandSchema = z.strictObject({
  /** Client-supplied id: repeating the same body returns the same command(s). */
  id: name.optional(),
  target: targetSchema,
  action: z.strictObject({
    name: z.string().min(1).max(128),
    args: z.record(z.string(), z.unknown()).default({}),
    version: z.string().min(1).max(32).default('1'),
  }),
  timeoutS: z.number().int().min(1).max(2_592_000).optional(),
  source: z.string().max(256).default('api'),
  user: z.string().max(256).optional(),
});
export type CreateCommand = z.output<typeof createCommandSchema>;

/** POST /v1/commands takes one command, or several as {"commands": [...]}. */
export const createBatchSchema = z.strictObject({
  commands: z.array(createCommandSchema).min(1).max(1000),
});

export const resultBodySchema = z.strictObject({
  status: z.enum(['success', 'failure']),
  result: z
    .strictObject({
      code: z.union([z.string().max(128), z.number().int()]).optional(),
      message: z.string().max(65_536).optional(),
      data: z.unknown().optional(),
    })
    .default({}),
});
export type ResultBody = z.output<typeof resultBodySchema>;

export interface CommandResult {
  code?: string | number | undefined;
  message?: string | undefined;
  data?: unknown;
}

export interface Command {
  id: string;
  requestId: string;
  source: string;
  user: string | null;
  target: DeliveryTarget;
  /** The group a command was expanded from, when it was. */
  group: string | null;
  action: { name: string; args: Record<string, unknown>; version: string };
  timeoutS: number;
  status: CommandStatus;
  result: CommandResult | null;
  createdAt: string;
  deadlineAt: string;
  sentAt: string | null;
  finishedAt: string | null;
}

/** What an agent receives: the command without bookkeeping it has no use for. */
export function toDelivery(command: Command): Record<string, unknown> {
  return {
    id: command.id,
    action: command.action,
    timeoutS: command.timeoutS,
    deadlineAt: command.deadlineAt,
    createdAt: command.createdAt,
  };
}
