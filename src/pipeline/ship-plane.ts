/**
 * The ship plane: sources -> one buffer per sink -> a driver per sink that
 * batches, sends with bounded concurrency and acknowledges after delivery.
 * Shutdown: sources stop accepting (accept), drivers get a bounded time to
 * deliver what is buffered (drain), drivers stop (flush), then sink pools
 * and buffer files close (close). Disk buffers keep what was not delivered.
 */
import { join } from 'node:path';
import type { Plane, PlaneContext } from '../plane.ts';
import { writeAddressFile } from '../server/address-file.ts';
import type { EventBuffer } from './buffer/buffer.ts';
import { createBuffer } from './buffer/create-buffer.ts';
import { createSource, fanOut } from './create-source.ts';
import { PipelineMetrics } from './pipeline-metrics.ts';
import { SinkDriver } from './sinks/driver.ts';
import { createSinkService } from './sinks/registry.ts';
import type { SinkService } from './sinks/service.ts';
import { HttpSource } from './sources/http/http-source.ts';
import type { Source } from './sources/source.ts';

interface Sink {
  readonly buffer: EventBuffer;
  /** Disk buffers keep undelivered events across restarts; memory ones do not. */
  readonly isDurable: boolean;
  readonly service: SinkService;
  readonly driver: SinkDriver;
}

export function createShipPlane(context: PlaneContext): Plane {
  const { config, logger, registry, lifecycle } = context;
  const pipeline = config.pipeline;
  const metrics = new PipelineMetrics(registry);
  const sinks = new Map<string, Sink>();
  const sources = new Map<string, Source>();
  const log = logger.child({ plane: 'ship' });

  async function start(): Promise<void> {
    for (const [name, sinkConfig] of Object.entries(pipeline.sinks)) {
      const buffer = await createBuffer(name, sinkConfig.buffer, config.dataDir, metrics);
      const service = createSinkService(name, sinkConfig, {
        dataDir: config.dataDir,
        registry,
        logger: log,
      });
      const driver = new SinkDriver({
        name,
        buffer,
        service,
        concurrency: sinkConfig.concurrency,
        batch: sinkConfig.batch,
        retry: sinkConfig.retry,
        deadLetterPath: join(config.dataDir, 'dead-letter', `${name}.ndjson`),
        registry,
        logger: log.child({ sink: name }),
      });
      sinks.set(name, { buffer, isDurable: sinkConfig.buffer.type === 'disk', service, driver });
      driver.start();
    }
    for (const [name, sourceConfig] of Object.entries(pipeline.sources)) {
      const routed = (pipeline.routes[name] ?? []).map((sink) => sinks.get(sink)!.buffer);
      const append = fanOut(
        routed.map((buffer) => (records: readonly Buffer[]) => buffer.append(records)),
      );
      sources.set(
        name,
        createSource(name, sourceConfig, { dataDir: config.dataDir, logger: log, metrics, append }),
      );
    }
    let isAddressWritten = false;
    for (const [name, source] of sources) {
      const bound = await source.start();
      if (source instanceof HttpSource && !isAddressWritten) {
        const address = bound as { host: string; port: number };
        const file = writeAddressFile(config.dataDir, 'events', address);
        isAddressWritten = true;
        log.info({ source: name, listen: address, addrFile: file }, 'event intake ready');
      }
    }
  }

  lifecycle.onShutdown('accept', 'ship sources', async () => {
    await Promise.all(
      [...sources.values()].map((source) =>
        source instanceof HttpSource ? source.stop(config.shutdownGraceMs) : source.stop(),
      ),
    );
  });
  // Disk buffers keep what is left for the next start; memory buffers get a
  // bounded time to deliver, since what they hold dies with the process.
  lifecycle.onShutdown('drain', 'ship buffers', async () => {
    const deadline = Date.now() + pipeline.drainTimeoutMs;
    const isDraining = () =>
      [...sinks.values()].some((sink) => !sink.isDurable && sink.buffer.pendingEvents > 0);
    while (Date.now() < deadline && isDraining()) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  // The driver's stop lets in-flight sends finish, then closes the service's pool.
  lifecycle.onShutdown('flush', 'ship sinks', async () => {
    await Promise.all([...sinks.values()].map((sink) => sink.driver.stop()));
  });
  lifecycle.onShutdown('close', 'ship buffers', async () => {
    await Promise.all([...sinks.values()].map((sink) => sink.buffer.close()));
  });

  return { name: 'ship', start };
}
