/**
 * Appends batches as NDJSON lines to one file and rotates it by size:
 * `PATH` -> `PATH.1` -> ... -> `PATH.<maxFiles>` (the oldest is deleted).
 * A batch is never split across files. Each batch is fdatasync'ed before
 * `send` resolves, because the driver acknowledges the buffer right after:
 * an event leaves the buffer only once it is on disk here. Sends are
 * serialised (the driver may run several at once).
 */
import { type FileHandle, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Counter, Registry } from '../../../telemetry/index.ts';
import { registeredCounter } from '../../../telemetry/registered-metric.ts';
import { DELIVERED, type SendResult, type SinkService } from '../service.ts';

const NEWLINE = Buffer.from('\n');

export interface FileServiceOptions {
  readonly name: string;
  /** Absolute path of the live file. */
  readonly path: string;
  readonly maxFileBytes: number;
  readonly maxFiles: number;
  readonly registry: Registry;
}

export class FileService implements SinkService {
  readonly #options: FileServiceOptions;
  readonly #rotations: Counter.Internal;
  #handle: FileHandle | undefined;
  #size = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #isClosed = false;

  constructor(options: FileServiceOptions) {
    this.#options = options;
    this.#rotations = registeredCounter(options.registry, {
      name: 'keepwire_file_sink_rotations_total',
      help: 'Files a file sink rotated because they reached maxFileBytes.',
      labelNames: ['sink'],
    }).labels({ sink: options.name });
  }

  send(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    const result = this.#tail.then(() => this.#write(records, signal));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async #write(records: readonly Buffer[], signal: AbortSignal): Promise<SendResult> {
    signal.throwIfAborted();
    if (this.#isClosed) throw new Error(`file sink ${this.#options.name} is closed`);
    const chunks: Buffer[] = [];
    let bytes = 0;
    for (const record of records) {
      chunks.push(record, NEWLINE);
      bytes += record.length + 1;
    }
    await this.#open();
    if (this.#size > 0 && this.#size + bytes > this.#options.maxFileBytes) {
      await this.#rotate();
    }
    const live = await this.#open();
    await live.writev(chunks);
    await live.datasync();
    this.#size += bytes;
    return DELIVERED;
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    await mkdir(dirname(this.#options.path), { recursive: true, mode: 0o750 });
    // Events can be sensitive: owner and group only, from creation on.
    this.#handle = await open(this.#options.path, 'a', 0o640);
    this.#size = (await this.#handle.stat()).size;
    return this.#handle;
  }

  async #rotate(): Promise<void> {
    const { path, maxFiles } = this.#options;
    await this.#handle?.close();
    this.#handle = undefined;
    await rm(`${path}.${maxFiles}`, { force: true });
    for (let index = maxFiles - 1; index >= 1; index -= 1) {
      if (await exists(`${path}.${index}`))
        await rename(`${path}.${index}`, `${path}.${index + 1}`);
    }
    await rename(path, `${path}.1`);
    this.#rotations.inc();
  }

  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#isClosed = true;
    await this.#tail;
    await this.#handle?.close();
    this.#handle = undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
