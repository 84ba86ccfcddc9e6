import { isAbsolute, join } from 'node:path';
import type { Logger, Registry } from '../../../telemetry/index.ts';
import type { SinkService } from '../service.ts';
import type { FileSinkConfig } from './config.ts';
import { FileService } from './file-service.ts';

// The schema (config.ts) is not re-exported: it loads zod, which `keepwire ship --to` does without.
export type { FileSinkConfig } from './config.ts';
export { FileService } from './file-service.ts';

export function createFileSinkService(
  config: FileSinkConfig,
  deps: { name: string; dataDir: string; registry: Registry; logger: Logger },
): SinkService {
  return new FileService({
    name: deps.name,
    path: isAbsolute(config.path) ? config.path : join(deps.dataDir, config.path),
    maxFileBytes: config.maxFileBytes,
    maxFiles: config.maxFiles,
    registry: deps.registry,
  });
}
