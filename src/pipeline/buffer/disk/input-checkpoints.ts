/**
 * Input checkpoints kept inside a disk buffer, so that a producer that reads
 * its input from a file (`keepwire ship`) commits how far it read in the
 * same write as the events it read: after a kill -9 the resume point is
 * exactly the end of the last append the file holds, never behind it (which
 * would send a chunk twice) nor ahead of it (which would lose one).
 *
 * The buffer keeps one map, input name -> checkpoint (any JSON value; the
 * buffer does not read it). An append that carries checkpoints is written as
 * a commit frame (a meta frame, record-frame.ts) followed by its events, in
 * one write: `{"covers": N, "inputs": {...}}`, where `inputs` is the whole
 * map after this append and `covers` the bytes of event frames that follow
 * and belong to it. The commit counts only if all those bytes are in the
 * file: recovery cuts an append whose write a crash tore (its events were
 * never acknowledged to the producer, which reads them again from the
 * checkpoint before it) and keeps the commit before it.
 *
 * Every segment the buffer starts while the map is not empty begins with a
 * commit frame covering nothing (the map as it stands), so the newest
 * segment always holds the whole map, and deleting delivered segments never
 * deletes the last checkpoint.
 */
import { encodeMetaFrame } from './record-frame.ts';

/** Input name -> checkpoint, as the producer gave them. */
export type InputCheckpoints = Readonly<Record<string, unknown>>;

interface CommitPayload {
  readonly covers: number;
  readonly inputs: InputCheckpoints;
}

export function hasCheckpoints(inputs: InputCheckpoints): boolean {
  for (const _ in inputs) return true;
  return false;
}

/** The commit frame of `inputs` (the whole map) covering the `covers` bytes of frames after it. */
export function encodeCommit(inputs: InputCheckpoints, covers: number): Buffer {
  const payload: CommitPayload = { covers, inputs };
  return encodeMetaFrame(Buffer.from(JSON.stringify(payload)));
}

/** What a new segment starts with: the whole map, covering nothing (undefined while it is empty). */
export function openingCommit(inputs: InputCheckpoints): Buffer | undefined {
  return hasCheckpoints(inputs) ? encodeCommit(inputs, 0) : undefined;
}

/** A commit frame's payload; undefined when it is not one (a meta frame of another kind). */
export function decodeCommit(payload: Buffer): CommitPayload | undefined {
  try {
    const value = JSON.parse(payload.toString('utf8')) as Partial<CommitPayload>;
    if (typeof value.covers !== 'number' || typeof value.inputs !== 'object' || !value.inputs)
      return undefined;
    return value as CommitPayload;
  } catch {
    return undefined;
  }
}

/** One append of a group commit: its event frames and the checkpoints it commits, if any. */
export interface CommitPart {
  readonly frames: Buffer;
  readonly inputs?: InputCheckpoints;
}

/**
 * The pieces of one write for `parts` (in order, written back to back, not
 * joined): each part that carries checkpoints preceded by its commit frame,
 * and the map after the last one.
 */
export function layOutCommits(
  parts: readonly CommitPart[],
  inputs: InputCheckpoints,
): { pieces: Buffer[]; inputs: InputCheckpoints } {
  const pieces: Buffer[] = [];
  let state = inputs;
  for (const part of parts) {
    if (part.inputs) {
      state = { ...state, ...part.inputs };
      pieces.push(encodeCommit(state, part.frames.length));
    }
    pieces.push(part.frames);
  }
  return { pieces, inputs: state };
}

/**
 * Follows the commit frames of one segment as recovery scans it: the last
 * commit whose covered bytes are all there, and the one still open (its
 * append not yet seen whole).
 */
export class CommitTracker {
  /** The map of the last complete commit, if any. */
  inputs: InputCheckpoints | undefined;
  #open:
    | { offset: number; end: number; inputs: InputCheckpoints; events: number; bytes: number }
    | undefined;

  /**
   * A meta frame at `offset`, its payload ending at `next`; `events` and
   * `bytes` are what the scan had counted before it.
   */
  meta(payload: Buffer, offset: number, next: number, events: number, bytes: number): void {
    const commit = decodeCommit(payload);
    if (!commit) return;
    this.#settle(offset);
    this.#open = { offset, end: next + commit.covers, inputs: commit.inputs, events, bytes };
  }

  /** Confirms the open commit when its append ends at or before `end`. */
  #settle(end: number): void {
    if (this.#open && this.#open.end <= end) this.inputs = this.#open.inputs;
    this.#open = undefined;
  }

  /**
   * The data ends at `end`: an open commit whose append does not fit before
   * it was torn by a crash. Returns where to cut (its commit frame) and the
   * counts before it, or undefined when nothing is cut.
   */
  finish(end: number): { offset: number; events: number; bytes: number } | undefined {
    const open = this.#open;
    if (open && open.end > end) {
      this.#open = undefined;
      return open;
    }
    this.#settle(end);
    return undefined;
  }
}
