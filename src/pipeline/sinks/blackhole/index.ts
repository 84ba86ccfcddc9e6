import type { Logger, Registry } from '../../../telemetry/index.ts';
import type { SinkService } from '../service.ts';
import { BlackholeService } from './blackhole-service.ts';
import type { BlackholeSinkConfig } from './config.ts';

export { BlackholeService } from './blackhole-service.ts';
// The schema (config.ts) is not re-exported: it loads zod, which `keepwire ship --to` does without.
export type { BlackholeSinkConfig } from './config.ts';

export function createBlackholeSinkService(
  _config: BlackholeSinkConfig,
  deps: { name: string; registry: Registry; logger: Logger },
): SinkService {
  return new BlackholeService(deps.name, deps.registry);
}
