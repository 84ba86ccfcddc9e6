/**
 * The reference agent's memory of what it executed, so a command delivered
 * again (after a server crash, or an agent restart) never runs twice.
 *
 * Format: DIR/executed.jsonl, one JSON object per line:
 *   {"id", "state": "started"}                       fsynced BEFORE the action runs
 *   {"id", "state": "done", "status", "result"}      fsynced after it ran
 *   {"id", "state": "acked"}                          the server accepted the result
 * Replaying the lines in order gives each id's latest state; a torn last line
 * (a crash mid-append) is ignored. A command seen "started" but never "done"
 * was interrupted: it is answered "failure" and not run again. Size is
 * bounded: past 2 x maxEntries lines the file is rewritten with the newest
 * maxEntries ids (temp file, fsync, rename).
 */
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { replaceFileSync } from '../../fs/replace-file.ts';
import type { CommandResult } from '../command.ts';

export interface JournalEntry {
  id: string;
  state: 'started' | 'done' | 'acked';
  status?: 'success' | 'failure';
  result?: CommandResult;
}

export class ExecutionJournal {
  readonly #path: string;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, JournalEntry>();
  #fd: number;
  #lines = 0;

  constructor(dir: string, options: { maxEntries?: number } = {}) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#path = join(dir, 'executed.jsonl');
    this.#maxEntries = options.maxEntries ?? 10_000;
    if (existsSync(this.#path)) {
      for (const line of readFileSync(this.#path, 'utf8').split('\n')) {
        if (line === '') continue;
        let entry: JournalEntry;
        try {
          entry = JSON.parse(line) as JournalEntry;
        } catch {
          continue;
        }
        this.#apply(entry);
        this.#lines += 1;
      }
    }
    this.#fd = openSync(this.#path, 'a', 0o600);
  }

  get(id: string): JournalEntry | undefined {
    return this.#entries.get(id);
  }

  /** Records that the action is about to run; durable before it returns. */
  begin(id: string): void {
    this.#append({ id, state: 'started' }, true);
  }

  complete(id: string, status: 'success' | 'failure', result: CommandResult): JournalEntry {
    const entry: JournalEntry = { id, state: 'done', status, result };
    this.#append(entry, true);
    return this.#entries.get(id)!;
  }

  acknowledge(id: string): void {
    if (this.#entries.get(id)?.state === 'acked') return;
    this.#append({ id, state: 'acked' }, false);
  }

  /** Entries whose result the server has not accepted yet (to post again at start). */
  unacknowledged(): JournalEntry[] {
    return [...this.#entries.values()].filter((e) => e.state !== 'acked');
  }

  close(): void {
    closeSync(this.#fd);
  }

  #apply(entry: JournalEntry): void {
    const previous = this.#entries.get(entry.id);
    this.#entries.delete(entry.id);
    // "acked" keeps the result it acknowledged, so a repeat delivery can be answered.
    this.#entries.set(
      entry.id,
      entry.state === 'acked' && previous ? { ...previous, state: 'acked' } : entry,
    );
  }

  #append(entry: JournalEntry, isDurable: boolean): void {
    this.#apply(entry);
    writeSync(this.#fd, `${JSON.stringify(entry)}\n`);
    if (isDurable) fsyncSync(this.#fd);
    this.#lines += 1;
    if (this.#lines > 2 * this.#maxEntries) this.#compact();
  }

  #compact(): void {
    const keep = [...this.#entries.values()].slice(-this.#maxEntries);
    this.#entries.clear();
    for (const entry of keep) this.#entries.set(entry.id, entry);
    replaceFileSync(this.#path, keep.map((e) => `${JSON.stringify(e)}\n`).join(''), 0o600);
    closeSync(this.#fd);
    this.#fd = openSync(this.#path, 'a', 0o600);
    this.#lines = keep.length;
  }
}
