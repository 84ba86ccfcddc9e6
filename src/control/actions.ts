/**
 * Argument schemas for the built-in actions. The server validates the args of
 * these; any other action is accepted with opaque args, because agents and
 * components may register their own (an agent answers "failure" for an
 * action it does not know).
 */
import { z } from 'zod';
import { InvalidArgsError } from './errors.ts';

const tcpState = z.string().min(1).max(16);

export const BUILT_IN_ACTIONS = {
  ping: z.strictObject({
    echo: z.string().max(1024).optional(),
    /** Answer after this long: for testing deadlines and slow agents. */
    delayMs: z.number().int().min(0).max(600_000).optional(),
  }),
  'sockets.snapshot': z.strictObject({
    by: z.enum(['process', 'remote', 'local-port', 'state']).optional(),
    state: tcpState.optional(),
    port: z.number().int().min(0).max(65_535).optional(),
    top: z.number().int().min(1).max(1000).optional(),
    attribute: z.boolean().optional(),
  }),
  'sockets.diagnose': z.strictObject({
    samples: z.number().int().min(2).max(10).optional(),
    intervalMs: z.number().int().min(100).max(10_000).optional(),
    timeWaitMinCount: z.number().int().min(1).optional(),
  }),
  'sysctl.audit': z.strictObject({}),
} as const;

export type BuiltInAction = keyof typeof BUILT_IN_ACTIONS;

export function isBuiltInAction(name: string): name is BuiltInAction {
  return Object.hasOwn(BUILT_IN_ACTIONS, name);
}

/** Validates args of a built-in action; others pass through untouched. */
export function validateArgs(
  action: string,
  args: Record<string, unknown>,
  field = 'action.args',
): Record<string, unknown> {
  if (!isBuiltInAction(action)) return args;
  const parsed = BUILT_IN_ACTIONS[action].safeParse(args);
  if (parsed.success) return parsed.data as Record<string, unknown>;
  const issue = parsed.error.issues[0]!;
  const path = [field, ...issue.path.map(String)].join('.');
  const detail =
    issue.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : issue.message;
  throw new InvalidArgsError(`${path}: ${detail} (action "${action}")`);
}
