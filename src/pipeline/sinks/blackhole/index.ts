import type { Logger, Registry } from '../../../telemetry/index.ts';
import type { SinkService } from '../service.ts';
import { BlackholeService } from './blackhole-service.ts';
import type { BlackholeSinkConfig } from './config.ts';

export { BlackholeService } from './blackhole-service.ts';
export { type BlackholeSinkConfig, blackholeSinkSchema } from './config.ts';

export function createBlackholeSinkService(
  _config: BlackholeSinkConfig,
  deps: { name: string; registry: Registry; logger: Logger },
): SinkService {
  return new BlackholeService(deps.name, deps.registry);
}
