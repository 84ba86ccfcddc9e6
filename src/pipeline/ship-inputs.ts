/**
 * What a `keepwire ship` data directory remembers of its inputs, so an
 * interrupted run is finished exactly where it stopped: each file's path
 * and identity (device, inode, a SHA-256 of its first bytes) and how far it
 * was read, as checkpoints at record boundaries, in two places:
 * - the disk buffer itself (input-checkpoints.ts): each append of a file's
 *   frames commits the checkpoint they reach in the same write, so after a
 *   kill the buffer gives back exactly the end of its last whole append;
 * - DATA_DIR/ship-inputs.json (atomic and fsynced, replace-file.ts): the
 *   identities and, per file, a checkpoint copied from the buffer once a
 *   sync made it durable (in the background), and whether the file was
 *   read to its end. A rerun takes the later of the two.
 * A different file at the same path (another identity, or shorter than the
 * checkpoint) is read from the start. Standard input cannot be resumed: the
 * manifest only remembers that a run reading it was interrupted, to say so.
 * A data directory of a Keepwire from before checkpoints were kept in the
 * buffer (its ship-inputs.latest.json) resumes from the durable checkpoints.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { replaceFileSync } from '../fs/replace-file.ts';
import type { InputCheckpoints } from './buffer/disk/input-checkpoints.ts';
import type { FileCheckpoint } from './sources/frame-worker.ts';

/** Bytes of a file's start whose hash is part of its identity. */
const HEAD_BYTES = 4096;
const MANIFEST = 'ship-inputs.json';
/** Where versions before the buffer kept checkpoints put the latest ones (not durable). */
const OLD_LATEST = 'ship-inputs.latest.json';
/** The durable checkpoints follow the buffer's at most this often (a buffer sync each time), but at the end at once. */
const PROMOTE_EVERY_MS = 1000;

/** A file's checkpoint as the buffer holds it, under the file's absolute path. */
interface HeldCheckpoint extends FileCheckpoint {
  /** The identity of the file it belongs to (ino and head hash): a replaced file's is ignored. */
  readonly file: string;
}

/** The buffer the checkpoints are committed in (DiskBuffer). */
export interface CheckpointBuffer {
  readonly inputs: InputCheckpoints;
  /** Resolves once every append resolved before it is durable. */
  sync(): Promise<void>;
}

interface InputEntry {
  readonly path: string;
  readonly from: string;
  readonly dev: number;
  readonly ino: number;
  readonly headBytes: number;
  readonly headSha256: string;
  offset: number;
  line: number;
  isDone: boolean;
}

interface Manifest {
  readonly version: 1;
  readonly inputs: InputEntry[];
  /** A run read standard input and did not reach its end. */
  isStdinInterrupted: boolean;
}

/** How one input of this run starts, as the summary reports it. */
export interface InputStart {
  readonly path: string;
  /**
   * `new`: not read before; `resumed`: from an earlier run's checkpoint
   * (`offset` > 0); `changed`: a different file than the one read before
   * at this path, read from the start (`reason` says why).
   */
  readonly state: 'new' | 'resumed' | 'changed';
  readonly offset: number;
  readonly line: number;
  readonly reason?: string;
}

export class ShipInputs {
  readonly #path: string;
  readonly #oldLatestPath: string;
  readonly #manifest: Manifest;
  readonly #from: string;
  /** The background sync that promotes the latest checkpoints to durable ones, and whether another is due. */
  #syncing: Promise<void> | undefined;
  #isSyncDue = false;
  #isSettling = false;
  #wakePromote = () => {};
  #buffer: CheckpointBuffer | undefined;
  /** What the interrupted run before this one left of standard input. */
  readonly wasStdinInterrupted: boolean;
  /**
   * The directory was written by a Keepwire that kept the latest checkpoints
   * beside the buffer: its files resume from their durable checkpoints (what
   * was read after them may be sent twice, once).
   */
  readonly isFromOlderVersion: boolean;

  constructor(dataDir: string, from: string) {
    this.#path = join(dataDir, MANIFEST);
    this.#oldLatestPath = join(dataDir, OLD_LATEST);
    this.#from = from;
    this.isFromOlderVersion = existsSync(this.#oldLatestPath);
    this.#manifest = existsSync(this.#path)
      ? (JSON.parse(readFileSync(this.#path, 'utf8')) as Manifest)
      : { version: 1, inputs: [], isStdinInterrupted: false };
    this.wasStdinInterrupted = this.#manifest.isStdinInterrupted;
  }

  /** Whether an earlier run named files (a rerun without any then reads no standard input). */
  get hasFiles(): boolean {
    return this.#manifest.inputs.length > 0;
  }

  /** The files an earlier run did not read to their end, in the order it read them. */
  unfinished(): string[] {
    return this.#manifest.inputs.filter((entry) => !entry.isDone).map((entry) => entry.path);
  }

  /**
   * Where `path` starts in this run: its checkpoint when it is the file
   * read before (the buffer's, or the durable one when later), else 0.
   */
  start(path: string, buffer: CheckpointBuffer): InputStart & { checkpoint: FileCheckpoint } {
    this.#buffer = buffer;
    const absolute = resolve(path);
    const identity = identify(absolute);
    const index = this.#manifest.inputs.findIndex((entry) => entry.path === absolute);
    const known = this.#manifest.inputs[index];
    const change = known && whyChanged(known, identity, this.#from);
    if (known && change === undefined) {
      // Read again to its end: a file that grew since is read on from there.
      known.isDone = false;
      takeLater(known, buffer.inputs[absolute]);
      this.#write();
      const checkpoint = { offset: known.offset, line: known.line };
      return {
        path,
        state: known.offset > 0 ? 'resumed' : 'new',
        ...checkpoint,
        checkpoint,
      };
    }
    const entry: InputEntry = { ...identity, from: this.#from, offset: 0, line: 0, isDone: false };
    if (known) this.#manifest.inputs[index] = entry;
    else this.#manifest.inputs.push(entry);
    this.#write();
    const checkpoint = { offset: 0, line: 0 };
    return known
      ? { path, state: 'changed', ...checkpoint, reason: change, checkpoint }
      : { path, state: 'new', ...checkpoint, checkpoint };
  }

  /** The checkpoints to commit with the append of `path`'s frames up to `checkpoint`. */
  commit(path: string, checkpoint: FileCheckpoint): InputCheckpoints {
    const entry = this.#entry(path);
    const held: HeldCheckpoint = {
      offset: checkpoint.offset,
      line: checkpoint.line,
      file: fileKey(entry),
    };
    return { [entry.path]: held };
  }

  /** An append with a commit resolved: its checkpoint is copied to the manifest after a sync, in the background. */
  committed(): void {
    this.#isSyncDue = true;
    this.#syncing ??= this.#promote();
  }

  /** `path` was read to its end: its last checkpoint is made durable, and it is marked done. */
  async finish(path: string): Promise<void> {
    await this.settle();
    this.#entry(path).isDone = true;
    this.#write();
  }

  /** Makes every checkpoint taken so far durable (a sync of the buffer); before the buffer closes. */
  async settle(): Promise<void> {
    this.#isSettling = true;
    this.#wakePromote();
    try {
      if (this.#syncing) await this.#syncing;
      if (this.#isSyncDue) {
        this.#syncing ??= this.#promote();
        await this.#syncing;
      }
    } finally {
      this.#isSettling = false;
    }
  }

  /** Syncs the buffer and then copies the checkpoints it held before as durable ones, while any are due. */
  async #promote(): Promise<void> {
    try {
      while (this.#isSyncDue) {
        this.#isSyncDue = false;
        const taken = this.#buffer!.inputs;
        await this.#buffer!.sync();
        for (const entry of this.#manifest.inputs) takeLater(entry, taken[entry.path]);
        this.#write();
        if (this.#isSyncDue && !this.#isSettling) await this.#pause();
      }
    } catch {
      // The buffer failed to sync: it reports that itself; the durable checkpoints stay behind.
    } finally {
      this.#syncing = undefined;
    }
  }

  #pause(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PROMOTE_EVERY_MS);
      this.#wakePromote = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Standard input is being read (`isReading`) or reached its end. */
  stdin(isReading: boolean): void {
    this.#manifest.isStdinInterrupted = isReading;
    this.#write();
  }

  #entry(path: string): InputEntry {
    const absolute = resolve(path);
    const entry = this.#manifest.inputs.find((known) => known.path === absolute);
    if (!entry) throw new Error(`${absolute} was not started`);
    return entry;
  }

  #write(): void {
    replaceFileSync(this.#path, `${JSON.stringify(this.#manifest, null, 1)}\n`, 0o600);
    if (this.isFromOlderVersion) rmSync(this.#oldLatestPath, { force: true });
  }
}

type Identity = Pick<InputEntry, 'path' | 'dev' | 'ino' | 'headBytes' | 'headSha256'> & {
  readonly size: number;
};

function fileKey(entry: Pick<InputEntry, 'ino' | 'headSha256'>): string {
  return `${entry.ino}:${entry.headSha256}`;
}

/** Moves `entry` on to `held` (a checkpoint the buffer holds) when it is of this file and later. */
function takeLater(entry: InputEntry, held: unknown): void {
  const checkpoint = held as HeldCheckpoint | undefined;
  if (checkpoint?.file === fileKey(entry) && checkpoint.offset > entry.offset) {
    entry.offset = checkpoint.offset;
    entry.line = checkpoint.line;
  }
}

function identify(path: string): Identity {
  const { dev, ino, size } = statSync(path);
  const head = readHead(path, Math.min(size, HEAD_BYTES));
  return { path, dev, ino, size, headBytes: head.length, headSha256: sha256(head) };
}

/** Why the file at a known path is not the one read before; undefined when it is. */
function whyChanged(known: InputEntry, now: Identity, from: string): string | undefined {
  if (known.from !== from) return `it was read as ${known.from} before, now as ${from}`;
  if (known.dev !== now.dev || known.ino !== now.ino)
    return 'another file is at this path (device or inode changed)';
  if (now.size < known.offset)
    return `it is shorter (${now.size} bytes) than where the last run stopped (${known.offset})`;
  if (sha256(readHead(known.path, known.headBytes)) !== known.headSha256)
    return `its first ${known.headBytes} bytes changed`;
  return undefined;
}

function readHead(path: string, bytes: number): Buffer {
  const head = Buffer.alloc(bytes);
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < bytes) {
      const read = readSync(fd, head, done, bytes - done, done);
      if (read === 0) break;
      done += read;
    }
    return head.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}
