import { join } from 'node:path';
import type { Logger } from '../../telemetry/index.ts';
import type { PipelineMetrics } from '../pipeline-metrics.ts';
import type { EventBuffer } from './buffer.ts';
import type { BufferConfig } from './buffer-schema.ts';
import { type DamagedRegion, DiskBuffer } from './disk/disk-buffer.ts';
import { MemoryBuffer } from './memory.ts';

/** The buffer of sink `sink`: disk ones live in DATA_DIR/buffers/SINK/. */
export async function createBuffer(
  sink: string,
  config: BufferConfig,
  dataDir: string,
  metrics: PipelineMetrics,
  logger: Logger,
): Promise<EventBuffer> {
  const onDrop = (count: number, reason: string) => metrics.dropped.inc({ sink, reason }, count);
  const onDamage = (region: DamagedRegion) => {
    if (region.events === undefined) metrics.lostBytes.inc({ sink }, region.bytes);
    logger.error({ sink, ...region }, 'disk buffer damage found at start-up; its events are lost');
  };
  const buffer =
    config.type === 'disk'
      ? await DiskBuffer.open({
          dir: join(dataDir, 'buffers', sink),
          maxSizeBytes: config.maxSizeBytes,
          fsync: config.fsync,
          whenFull: config.whenFull,
          retryAfterMs: config.retryAfterMs,
          onDrop,
          onDamage,
          onWriteError: (error) => {
            metrics.writeErrors.inc({ sink });
            logger.error(
              { sink, err: error },
              'disk buffer cannot write; appends are refused (503 + Retry-After) until a write succeeds',
            );
          },
          onWriteRecovered: () => logger.warn({ sink }, 'disk buffer writes again'),
        })
      : new MemoryBuffer({
          maxEvents: config.maxEvents,
          whenFull: config.whenFull,
          retryAfterMs: config.retryAfterMs,
          onDrop,
        });
  metrics.watchBuffer(sink, buffer);
  return buffer;
}
