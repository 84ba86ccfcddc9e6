/**
 * Durable read positions of a file source, one JSON file
 * (DATA_DIR/checkpoints/SOURCE.json: `{path: {inode, offset}}`), replaced
 * atomically (temp + fsync + rename). Written only after the records before
 * `offset` are durable in the buffers, so a restart neither skips nor
 * re-reads: it resumes at `offset` when the inode still matches.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { replaceFileSync } from '../../../fs/replace-file.ts';

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
    replaceFileSync(this.#path, JSON.stringify(Object.fromEntries(this.#positions)), 0o640);
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
