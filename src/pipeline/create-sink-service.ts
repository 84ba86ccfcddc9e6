import type { SinkConfig } from '../config/pipeline.ts';
import type { Logger, Registry } from '../telemetry/index.ts';
import { createBlackholeSinkService } from './sinks/blackhole/index.ts';
import { createFileSinkService } from './sinks/file/index.ts';
import { createHttpSinkService } from './sinks/http/index.ts';
import type { SinkService } from './sinks/service.ts';

export interface SinkServiceContext {
  readonly dataDir: string;
  readonly registry: Registry;
  readonly logger: Logger;
}

/** Builds the service (encode + send one batch) of sink `name`. */
export function createSinkService(
  name: string,
  config: SinkConfig,
  context: SinkServiceContext,
): SinkService {
  const logger = context.logger.child({ sink: name });
  const options = { name, concurrency: config.concurrency, registry: context.registry, logger };
  switch (config.type) {
    case 'http':
      return createHttpSinkService(config, options);
    case 'file':
      return createFileSinkService(config, { ...options, dataDir: context.dataDir });
    case 'blackhole':
      return createBlackholeSinkService(config, options);
  }
}
