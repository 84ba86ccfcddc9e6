/**
 * Durable read positions of a file source, one JSON file
 * (DATA_DIR/checkpoints/SOURCE.json: `{path: {inode, offset}}`), replaced
 * atomically (temp + fsync + rename). Written only after the records before
 * `offset` are durable in the buffers, so a restart neither skips nor
 * re-reads: it resumes at `offset` when the inode still matches.
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';

export interface Checkpoint {
  readonly inode: number;
  readonly offset: number;
}

export class Checkpoints {
  readonly #path: string;
  readonly #positions: Map<string, Checkpoint>;

  constructor(path: string) {
    this.#path = path;
    mkdirSync(dirname(path), { recursive: true, mode: 0o750 });
    this.#positions = new Map(Object.entries(readPositions(path)));
  }

  get(path: string): Checkpoint | undefined {
    return this.#positions.get(path);
  }

  set(path: string, checkpoint: Checkpoint): void {
    this.#positions.set(path, checkpoint);
    const temporary = `${this.#path}.tmp`;
    const fd = openSync(temporary, 'w', 0o640);
    try {
      writeSync(fd, JSON.stringify(Object.fromEntries(this.#positions)));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.#path);
  }
}

function readPositions(path: string): Record<string, Checkpoint> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return typeof parsed === 'object' && parsed !== null
      ? (parsed as Record<string, Checkpoint>)
      : {};
  } catch {
    // Missing or damaged: start over per readFrom (at-least-once).
    return {};
  }
}
