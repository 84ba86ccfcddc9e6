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
import { type InputStart, ShipInputs } from './ship-inputs.ts';
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

/** The inputs of a run, each file resumed at its checkpoint in the data directory (ship-inputs.ts). */
export interface ShipInputPlan {
  readonly inputs: readonly ShipInput[];
  readonly manifest: ShipInputs;
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
  /** The inputs, and the data directory's memory of them (shipInputPlan). */
  readonly plan: ShipInputPlan;
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
  /** How each file input started: new, resumed at an earlier run's checkpoint, or changed (from 0). */
  readonly inputs: readonly InputStart[];
  /** Inputs not read to their end (an interrupted run): the next run with this --data-dir goes on. */
  readonly inputsUnfinished: readonly string[];
  readonly isComplete: boolean;
}

/**
 * The inputs of a run with `dataDir`: the files given; without any, the
 * files an interrupted earlier run left unfinished (none left: only the
 * buffer is drained), or standard input when no run there read files.
 */
export function shipInputPlan(
  dataDir: string,
  paths: readonly string[],
  from: string,
): ShipInputPlan {
  const manifest = new ShipInputs(dataDir, from);
  if (paths.length > 0) return { inputs: paths.map((path) => ({ path })), manifest };
  if (manifest.hasFiles)
    return { inputs: manifest.unfinished().map((path) => ({ path })), manifest };
  return { inputs: [{ path: '-' }], manifest };
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
  const { inputs, manifest } = options.plan;
  const hasStdin = inputs.some((input) => input.path === '-');
  const starts = new Map(
    inputs
      .filter((input) => input.path !== '-')
      .map((input) => [input, manifest.start(input.path, buffer)]),
  );
  const unfinished = new Set(inputs.map((input) => input.path));
  const progress: ShipProgress = {
    eventsRead: 0,
    bytesRead: 0,
    totalBytes: hasStdin ? undefined : fileBytesLeft(starts.values()),
    eventsRejected: 0,
    startedAt: Date.now(),
    pending: () => buffer.pendingEvents,
  };
  const timer = options.onProgress
    ? setInterval(() => options.onProgress!(progress), 200)
    : undefined;
  driver.start();
  try {
    for (const input of inputs) {
      const start = starts.get(input);
      if (!start) manifest.stdin(true);
      const reading = readStreamInto(
        start
          ? frameWorker.frameFile(input.path, FILE_CHUNK_BYTES, FILE_CHUNKS_AHEAD, start.checkpoint)
          : frameChunks(options.stdin, frameWorker),
        {
          // A file's checkpoint is committed in the same write as the frames that reach it.
          appendFrames: (frames, events, checkpoint) =>
            buffer.appendFrames(
              frames,
              events,
              checkpoint && manifest.commit(input.path, checkpoint),
            ),
          onReject: (reason, line, detail) => {
            progress.eventsRejected += 1;
            options.onReject?.(input.path, reason, line, detail);
          },
          onAppended: (events, bytes) => {
            progress.eventsRead += events;
            progress.bytesRead += bytes;
          },
          onCheckpoint: () => manifest.committed(),
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
      if (start) await manifest.finish(input.path);
      else manifest.stdin(false);
      unfinished.delete(input.path);
    }
    buffer.endLinger();
    if (!signal.aborted) await Promise.race([buffer.drained(), once(signal, 'abort')]);
  } finally {
    clearInterval(timer);
    options.onProgress?.(progress);
    await manifest.settle();
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
    inputs: [...starts.values()].map(({ checkpoint: _, ...start }) => start),
    inputsUnfinished: [...unfinished],
    isComplete:
      buffer.pendingEvents === 0 &&
      unfinished.size === 0 &&
      deadLettered === 0 &&
      progress.eventsRejected === 0,
  };
}

function fileBytesLeft(starts: Iterable<InputStart>): number {
  let total = 0;
  for (const start of starts) total += Math.max(0, statSync(start.path).size - start.offset);
  return total;
}

function countLines(path: string): number {
  if (!existsSync(path)) return 0;
  let count = 0;
  for (const byte of readFileSync(path)) if (byte === 0x0a) count += 1;
  return count;
}
