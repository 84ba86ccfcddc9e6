export type { AdminConfig } from './admin.ts';
export type { AgentsConfig, ControlConfig, SocketConfig } from './control.ts';
export { type DataDirOptions, defaultDataDir, SYSTEM_DATA_DIR } from './data-dir.ts';
export { ConfigInvalidError, ConfigReadError } from './errors.ts';
export { formatListen, type ListenAddress, listenSchema, parseListen } from './listen.ts';
export { type LoadOptions, loadConfig } from './load.ts';
export type { LogConfig } from './log.ts';
export { type Config, type ConfigInput, configSchema } from './schema.ts';
export type { WatchConfig } from './watch.ts';
