/**
 * One run of `keepwire ship`: inputs (files, or standard input) are read
 * into a disk buffer, and a sink driver delivers from it with pooled
 * connections, until every event read is acknowledged. Standard input keeps
 * the run (and its connections) alive for as long as it stays open. Events
 * the sink refuses for good go to the dead-letter file; the run reports them.
 */
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { SinkConfig } from '../config/pipeline.ts';
import type { Logger, Registry } from '../telemetry/index.ts';
import { DiskBuffer } from './buffer/disk/disk-buffer.ts';
import type { SinkContext } from './sinks/definition.ts';
import { SinkDriver } from './sinks/driver.ts';
import type { SinkService } from './sinks/service.ts';
import type { FrameWorker } from './sources/frame-worker.ts';
import type { MalformedReason } from './sources/framing/record-framer.ts';
import { frameChunks, readStreamInto } from './sources/stream-input.ts';

/** Files are read by the framing worker in chunks of this size, this many ahead of the appends. */
const FILE_CHUNK_BYTES = 1 << 20;
const FILE_CHUNKS_AHEAD = 8;

export interface ShipInput {
  /** A path, or `-` for standard input. */
  readonly path: string;
}

export interface ShipProgress {
  eventsRead: number;
  bytesRead: number;
  /** Sum of the input files' sizes; undefined when standard input is read. */
  readonly totalBytes: number | undefined;
  eventsRejected: number;
  readonly startedAt: number;
  /** Events read and not yet acknowledged by the sink. */
  pending(): number;
}

export interface ShipOptions {
  readonly inputs: readonly ShipInput[];
  readonly sink: SinkConfig;
  /**
   * Builds the sink's service. `keepwire ship` gives one that does not load
   * the configuration schema for `--to` (src/cli/ship-sink.ts); the sink
   * registry's createSinkService does the same for any sink.
   */
  readonly createService: (
    name: string,
    config: SinkConfig,
    context: Omit<SinkContext, 'name' | 'concurrency'>,
  ) => SinkService;
  readonly dataDir: string;
  readonly stdin: Readable;
  readonly registry: Registry;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /**
   * Splits, checks and frames the input on another thread (frame-worker.ts).
   * The caller starts it as early as it can (it boots while the rest loads)
   * and closes it after the run.
   */
  readonly frameWorker: FrameWorker;
  readonly onProgress?: (progress: ShipProgress) => void;
  /** Each input line or record skipped (counted in eventsRejectedAtInput), with its input's path. */
  readonly onReject?: (
    path: string,
    reason: MalformedReason,
    line: number,
    detail?: string,
  ) => void;
}

export interface ShipSummary {
  readonly eventsRead: number;
  readonly bytesRead: number;
  readonly eventsRejectedAtInput: number;
  /** Events still in the buffer (interrupted runs); they go out on the next run with the same --data-dir. */
  readonly eventsPending: number;
  /** Events the sink took (`eventsAlreadyPresent` included). */
  readonly eventsDelivered: number;
  /** Delivered events the peer already had (an OpenSearch `create` answered 409). */
  readonly eventsAlreadyPresent: number;
  readonly deadLettered: number;
  readonly deadLetterPath: string;
  readonly elapsedMs: number;
  readonly isComplete: boolean;
}

export async function shipOnce(options: ShipOptions): Promise<ShipSummary> {
  const { sink, dataDir, signal, frameWorker } = options;
  const buffer = await DiskBuffer.open({
    dir: join(dataDir, 'buffers', 'ship'),
    maxSizeBytes: sink.buffer.type === 'disk' ? sink.buffer.maxSizeBytes : 256 * 1024 * 1024,
    fsync: sink.buffer.type === 'disk' ? sink.buffer.fsync : 1000,
    whenFull: 'block',
    retryAfterMs: 50,
    onDamage: (region) =>
      options.logger.error(
        { ...region },
        'disk buffer damage found at start-up; its events are lost',
      ),
  });
  const deadLetterPath = join(dataDir, 'dead-letter', 'ship.ndjson');
  const deadLetteredBefore = countLines(deadLetterPath);
  const service = options.createService('ship', sink, {
    dataDir,
    registry: options.registry,
    logger: options.logger,
  });
  const driver = new SinkDriver({
    name: 'ship',
    buffer,
    service,
    concurrency: sink.concurrency,
    batch: sink.batch,
    retry: sink.retry,
    deadLetterPath,
    registry: options.registry,
    logger: options.logger,
  });
  const hasStdin = options.inputs.some((input) => input.path === '-');
  const progress: ShipProgress = {
    eventsRead: 0,
    bytesRead: 0,
    totalBytes: hasStdin
      ? undefined
      : options.inputs.reduce((sum, input) => sum + statSync(input.path).size, 0),
    eventsRejected: 0,
    startedAt: Date.now(),
    pending: () => buffer.pendingEvents,
  };
  const timer = options.onProgress
    ? setInterval(() => options.onProgress!(progress), 200)
    : undefined;
  driver.start();
  try {
    for (const input of options.inputs) {
      const reading = readStreamInto(
        input.path === '-'
          ? frameChunks(options.stdin, frameWorker)
          : frameWorker.frameFile(input.path, FILE_CHUNK_BYTES, FILE_CHUNKS_AHEAD),
        {
          appendFrames: (frames, events) => buffer.appendFrames(frames, events),
          onReject: (reason, line, detail) => {
            progress.eventsRejected += 1;
            options.onReject?.(input.path, reason, line, detail);
          },
          onAppended: (events, bytes) => {
            progress.eventsRead += events;
            progress.bytesRead += bytes;
          },
          signal,
        },
      );
      try {
        await reading;
      } catch (error) {
        // Interrupted: standard input was destroyed on purpose.
        if (!signal.aborted) throw error;
      }
      if (signal.aborted) break;
    }
    buffer.endLinger();
    if (!signal.aborted) await Promise.race([buffer.drained(), once(signal, 'abort')]);
  } finally {
    clearInterval(timer);
    options.onProgress?.(progress);
    await driver.stop(); // closes the service's pooled connections too
    await buffer.close();
  }
  const deadLettered = countLines(deadLetterPath) - deadLetteredBefore;
  return {
    eventsRead: progress.eventsRead,
    bytesRead: progress.bytesRead,
    eventsRejectedAtInput: progress.eventsRejected,
    eventsPending: buffer.pendingEvents,
    eventsDelivered: driver.counts.delivered,
    eventsAlreadyPresent: driver.counts.alreadyPresent,
    deadLettered,
    deadLetterPath,
    elapsedMs: Date.now() - progress.startedAt,
    isComplete: buffer.pendingEvents === 0 && deadLettered === 0 && progress.eventsRejected === 0,
  };
}

function countLines(path: string): number {
  if (!existsSync(path)) return 0;
  let count = 0;
  for (const byte of readFileSync(path)) if (byte === 0x0a) count += 1;
  return count;
}
