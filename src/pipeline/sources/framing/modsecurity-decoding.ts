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
import { type FramedRecord, type OnMalformed, recordText } from './record-framer.ts';

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
      const event = encodeRecord(recordText(record), record.line, record.path, this.#onMalformed);
      if (event !== undefined) events.push(Buffer.from(event));
    }
    return events;
  }
}

/**
 * One framed record's normalized event as JSON text, or undefined when the
 * decoder refuses it: then reported through `onMalformed` (`invalid`, its
 * line, its transaction file first when it has one). Every path that
 * decodes framed records (this class, the framing worker, the decode pool's
 * threads) goes through here, so a refused record is reported alike.
 */
export function encodeRecord(
  text: string,
  line: number,
  path: string | undefined,
  onMalformed: OnMalformed,
): string | undefined {
  try {
    return encodeModsecurityEvent(text);
  } catch (error) {
    if (!(error instanceof ModsecurityRecordError)) throw error;
    const where = path === undefined ? '' : `${path}: `;
    onMalformed({ reason: 'invalid', line, detail: where + error.message });
    return undefined;
  }
}
