/**
 * The command plane's public surface: other planes and the CLI use only these.
 */
export { BUILT_IN_ACTIONS, isBuiltInAction } from './actions.ts';
export {
  COMMAND_STATUSES,
  type Command,
  type CommandResult,
  type CommandStatus,
  FINAL_STATUSES,
  TARGET_TYPES,
  type Target,
} from './command.ts';
export { createControlPlane } from './control-plane.ts';
export { beforeWriteChannel } from './dispatch/delivery.ts';
export type { Agent, Store } from './store/store.ts';
