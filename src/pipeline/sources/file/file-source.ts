/**
 * The file source: tails the files its globs match, polling every
 * `pollIntervalMs`.
 * - Rotation (the path now names another inode): the new file is read from
 *   0, and the old one, through the descriptor still open, for
 *   `rotateWaitMs` more (its writer may append until it reopens the path),
 *   then to its end once more and closed. Its lines are not checkpointed:
 *   the path's checkpoint belongs to the new file.
 * - Truncation (the size shrank below our offset): read again from 0.
 * - Framing then decoding (`format`): NDJSON lines as they are, or
 *   ModSecurity records (serial JSON or Native, concurrent index lines)
 *   decoded into normalized events (framing/modsecurity-decoding.ts).
 * - Checkpoints (inode + offset of the last whole record) are written after
 *   the append is durable; a restart resumes there when the inode matches.
 * - A full buffer (`whenFull: block`) pauses the file until Retry-After.
 */
import { closeSync, fstatSync, globSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../../telemetry/index.ts';
import type { PipelineMetrics } from '../../pipeline-metrics.ts';
import { deliverWaiting } from '../append-waiting.ts';
import { ModsecurityDecoding } from '../framing/modsecurity-decoding.ts';
import { LineSplitter } from '../line-splitter.ts';
import type { AppendRecords, Source } from '../source.ts';
import { Checkpoints } from './checkpoints.ts';
import type { FileSourceConfig } from './schema.ts';

export interface FileSourceOptions {
  readonly name: string;
  readonly config: FileSourceConfig;
  /** DATA_DIR/checkpoints/NAME.json */
  readonly checkpointPath: string;
  readonly logger: Logger;
  readonly metrics: PipelineMetrics;
  readonly append: AppendRecords;
}

interface Tailed {
  fd: number;
  inode: number;
  /** Offset of the first byte not yet appended (a record boundary). */
  offset: number;
  /** Where the next read starts (past bytes the splitter holds or discards). */
  readAt: number;
  /** Framing then decoding: NDJSON lines, or ModSecurity records into events. */
  splitter: LineSplitter | ModsecurityDecoding;
}

export class FileSource implements Source {
  readonly #options: FileSourceOptions;
  readonly #checkpoints: Checkpoints;
  readonly #files = new Map<string, Tailed>();
  /** Rotated files still read until `until` (Date.now() ms), by the path they had. */
  #rotated: { path: string; tailed: Tailed; until: number }[] = [];
  readonly #stopping = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: FileSourceOptions) {
    this.#options = options;
    this.#checkpoints = new Checkpoints(options.checkpointPath);
  }

  async start(): Promise<void> {
    this.#discover(true);
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    const { signal } = this.#stopping;
    while (!signal.aborted) {
      try {
        this.#discover(false);
        for (const [path, tailed] of this.#files) await this.#poll(path, tailed);
        await this.#pollRotated();
        await sleep(this.#options.config.pollIntervalMs, undefined, { signal });
      } catch (error) {
        if (signal.aborted) return;
        this.#options.logger.error(
          { err: error, source: this.#options.name },
          'file source poll failed; retrying',
        );
        await sleep(this.#options.config.pollIntervalMs, undefined, { signal }).catch(() => {});
      }
    }
  }

  #discover(isStartup: boolean): void {
    for (const pattern of this.#options.config.include) {
      for (const path of globSync(pattern)) {
        if (this.#files.has(path)) continue;
        let fd: number;
        try {
          fd = openSync(path, 'r');
        } catch {
          continue;
        }
        const stat = fstatSync(fd);
        if (!stat.isFile()) {
          closeSync(fd);
          continue;
        }
        const saved = this.#checkpoints.get(path);
        let offset = 0;
        if (saved && saved.inode === stat.ino && saved.offset <= stat.size) offset = saved.offset;
        else if (!saved && isStartup && this.#options.config.readFrom === 'end') offset = stat.size;
        this.#files.set(path, {
          fd,
          inode: stat.ino,
          offset,
          readAt: offset,
          splitter: this.#splitter(path),
        });
      }
    }
  }

  #splitter(path: string): LineSplitter | ModsecurityDecoding {
    const { name, metrics, config, logger } = this.#options;
    if (config.format === 'ndjson') {
      return new LineSplitter(config.maxLineBytes, (reason) =>
        metrics.rejected.inc({ source: name, reason }),
      );
    }
    return new ModsecurityDecoding({
      maxRecordBytes: config.maxLineBytes,
      storageDir: config.storageDir,
      onMalformed: ({ reason, line, detail }) => {
        metrics.rejected.inc({ source: name, reason });
        logger.warn(
          { code: 'SHIP_RECORD_MALFORMED', path, line, reason },
          `malformed ModSecurity record skipped at ${path}:${line}: ${detail}`,
        );
      },
    });
  }

  async #poll(path: string, tailed: Tailed): Promise<void> {
    if (fstatSync(tailed.fd).size < tailed.offset) {
      this.#options.logger.warn({ path }, 'file truncated; reading it again from the start');
      tailed.offset = 0;
      tailed.readAt = 0;
      tailed.splitter = this.#splitter(path);
    }
    await this.#readToEnd(path, tailed);
    let current: number | undefined;
    try {
      current = statSync(path).ino;
    } catch {
      current = undefined;
    }
    if (current !== tailed.inode) {
      // Rotated or removed. A writer may have appended to the old inode
      // between the read above and the stat, and may go on until it reopens.
      this.#files.delete(path);
      const until = Date.now() + this.#options.config.rotateWaitMs;
      this.#rotated.push({ path, tailed, until });
      this.#options.logger.info({ path }, 'file rotated; reading the new one from its start');
    }
  }

  async #pollRotated(): Promise<void> {
    const now = Date.now();
    const rotated = this.#rotated;
    this.#rotated = [];
    for (const [index, entry] of rotated.entries()) {
      let isDone = now >= entry.until;
      try {
        await this.#readToEnd(entry.path, entry.tailed, false);
      } catch (error) {
        if (this.#stopping.signal.aborted) {
          this.#rotated.push(...rotated.slice(index)); // stop() closes them
          throw error;
        }
        this.#options.logger.warn(
          { err: error, path: entry.path },
          'rotated file unreadable; closed',
        );
        isDone = true;
      }
      if (isDone) closeSync(entry.tailed.fd);
      else this.#rotated.push(entry);
    }
  }

  async #readToEnd(path: string, tailed: Tailed, isCheckpointed = true): Promise<void> {
    const chunk = Buffer.allocUnsafe(this.#options.config.readChunkBytes);
    const { signal } = this.#stopping;
    for (;;) {
      const read = readSync(tailed.fd, chunk, 0, chunk.length, tailed.readAt);
      if (read === 0) return;
      tailed.readAt += read;
      const before = tailed.splitter.consumedBytes;
      const records = tailed.splitter.push(Buffer.from(chunk.subarray(0, read)));
      const advanced = tailed.splitter.consumedBytes - before;
      if (records.length > 0) await this.#deliver(records);
      if (signal.aborted) return;
      if (advanced > 0) {
        tailed.offset += advanced;
        if (isCheckpointed)
          this.#checkpoints.set(path, { inode: tailed.inode, offset: tailed.offset });
      }
    }
  }

  async #deliver(records: Buffer[]): Promise<void> {
    await deliverWaiting(this.#options, records, this.#stopping.signal);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    await this.#loop?.catch(() => {});
    for (const tailed of this.#files.values()) closeSync(tailed.fd);
    for (const { tailed } of this.#rotated) closeSync(tailed.fd);
    this.#files.clear();
    this.#rotated = [];
  }
}
