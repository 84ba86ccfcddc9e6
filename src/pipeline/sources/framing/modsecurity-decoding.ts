/**
 * ModSecurity audit logs in, normalized events out: the modsecurity framer
 * (where a record ends) then the ModSecurity decoder (what it means), each
 * record one JSON event ready for a buffer. The same surface as the NDJSON
 * LineSplitter (`push`, `end`, `consumedBytes` at record boundaries), so a
 * source takes either. A record the decoder refuses is reported through
 * `onMalformed` with its line (and its transaction file) and skipped.
 */
import { encodeModsecurityEvent, ModsecurityRecordError } from '../../codecs/modsecurity/index.ts';
import { ModsecurityFramer, type ModsecurityFramerOptions } from './modsecurity-framer.ts';
import type { FramedRecord, OnMalformed } from './record-framer.ts';

export class ModsecurityDecoding {
  readonly #framer: ModsecurityFramer;
  readonly #onMalformed: OnMalformed;

  constructor(options: ModsecurityFramerOptions) {
    this.#framer = new ModsecurityFramer(options);
    this.#onMalformed = options.onMalformed;
  }

  /** The events of the records `chunk` completes. */
  push(chunk: Buffer): Buffer[] {
    return this.#decode(this.#framer.push(chunk));
  }

  /** At the end of the input: the events of what is left, and starts afresh. */
  end(): Buffer[] {
    return this.#decode(this.#framer.end());
  }

  /** Counts lines from `line` (a resumed input), before the first push. */
  startAt(line: number): void {
    this.#framer.startAt(line);
  }

  /** Lines before `consumedBytes`. */
  get consumedLines(): number {
    return this.#framer.consumedLines;
  }

  /** Offset just past the last whole record or skipped line. */
  get consumedBytes(): number {
    return this.#framer.consumedBytes;
  }

  #decode(records: readonly FramedRecord[]): Buffer[] {
    const events: Buffer[] = [];
    for (const record of records) {
      try {
        events.push(Buffer.from(encodeModsecurityEvent(record.text)));
      } catch (error) {
        if (!(error instanceof ModsecurityRecordError)) throw error;
        const where = record.path === undefined ? '' : `${record.path}: `;
        this.#onMalformed({ reason: 'invalid', line: record.line, detail: where + error.message });
      }
    }
    return events;
  }
}
