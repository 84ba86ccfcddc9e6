/**
 * A command's statuses, in a module of their own (no zod): the CLI's
 * `commands watch` needs to know which are final without loading the schemas.
 */
export const COMMAND_STATUSES = [
  'pending',
  'sent',
  'success',
  'failure',
  'expired',
  'cancelled',
] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<CommandStatus> = new Set([
  'success',
  'failure',
  'expired',
  'cancelled',
]);
