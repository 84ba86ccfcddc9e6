import { isAbsolute, join } from 'node:path';
import type { Logger } from '../telemetry/index.ts';
import type { PipelineMetrics } from './pipeline-metrics.ts';
import { FileSource } from './sources/file/file-source.ts';
import { HttpSource } from './sources/http/http-source.ts';
import type { AppendRecords } from './sources/source.ts';
import type { SourceConfig } from './sources/source-schema.ts';
import { UnixSource } from './sources/unix/unix-source.ts';

export interface SourceContext {
  readonly dataDir: string;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly append: AppendRecords;
}

/** Builds the source `name` from its configuration. */
export function createSource(
  name: string,
  config: SourceConfig,
  context: SourceContext,
): HttpSource | UnixSource | FileSource {
  const logger = context.logger.child({ source: name });
  const common = { name, logger, metrics: context.metrics, append: context.append };
  switch (config.type) {
    case 'http':
      return new HttpSource({ ...common, config });
    case 'unix':
      return new UnixSource({
        ...common,
        path: isAbsolute(config.path) ? config.path : join(context.dataDir, config.path),
        maxLineBytes: config.maxLineBytes,
        maxConnections: config.maxConnections,
      });
    case 'file':
      return new FileSource({
        ...common,
        config,
        checkpointPath: join(context.dataDir, 'checkpoints', `${name}.json`),
      });
  }
}

/** Appends to every routed buffer; resolves once all are durable. */
export function fanOut(appends: readonly AppendRecords[]): AppendRecords {
  if (appends.length === 1) return appends[0]!;
  return async (records) => {
    await Promise.all(appends.map((append) => append(records)));
  };
}
