/**
 * Records -> a `_bulk` body: for each record an action line, then the record
 * itself, each ending in a newline (NDJSON, the last line too):
 *
 *   {"create":{"_index":"wazuh-alerts-4.x-2024.05.06","_id":"ZiA3x..."}}
 *   {"@timestamp":"2024-05-06T12:34:56Z","event":{"id":"ZiA3x..."},...}
 *
 * The record is copied as it is: it is already one JSON document. The action
 * line is three parts: a prefix built once per action and index (cached by
 * the document's UTC hour), the `_id`, and a constant suffix. The `_id` is
 * the id field's value (a string of 1 to 512 bytes, copied as written, which
 * is valid inside a JSON string; or a number), else the SHA-256 of the
 * record (base64url): the same record always gets the same `_id`, so a
 * resend never makes a second document. The body is laid out in one buffer
 * from `allocate` (a BodyPool's), after one pass that measures it.
 */
import { hash } from 'node:crypto';
import { dateKey, keyOfTime } from './document-date.ts';
import { FieldPath, type FieldSpan } from './field-scanner.ts';
import type { IndexTemplate } from './index-template.ts';

export type BulkAction = 'create' | 'index';

export interface BulkEncoderOptions {
  readonly action: BulkAction;
  readonly index: IndexTemplate;
  /** Dotted path of the field the `_id` comes from (`event.id`). */
  readonly idField: string;
  /** Dotted path of the field the index date comes from (`@timestamp`). */
  readonly timestampField: string;
  /** Time of ingest, for documents without a usable timestamp. */
  readonly now?: () => number;
}

/** OpenSearch and Elasticsearch refuse a longer `_id`. */
export const MAX_ID_BYTES = 512;
const QUOTE = 0x22;
const SUFFIX = Buffer.from('"}}\n');
const NEWLINE = 0x0a;
/** Distinct index names kept; a backfill spanning years clears it now and then. */
const MAX_CACHED_PREFIXES = 4096;

export class BulkEncoder {
  readonly #options: BulkEncoderOptions;
  readonly #idPath: FieldPath;
  readonly #timestampPath: FieldPath;
  readonly #now: () => number;
  readonly #usesHour: boolean;
  readonly #prefixes = new Map<number, Buffer>();
  readonly #span: FieldSpan = { start: -1, end: -1 };
  // Per-batch scratch, grown as needed and reused.
  #prefixOf: Buffer[] = [];
  #idStart = new Int32Array(256);
  #idEnd = new Int32Array(256);
  #hashes: (string | undefined)[] = [];

  constructor(options: BulkEncoderOptions) {
    this.#options = options;
    this.#idPath = new FieldPath(options.idField);
    this.#timestampPath = new FieldPath(options.timestampField);
    this.#now = options.now ?? Date.now;
    this.#usesHour = options.index.usesHour;
  }

  encode(
    records: readonly Buffer[],
    allocate: (bytes: number) => Buffer = Buffer.allocUnsafe,
  ): Buffer {
    const count = records.length;
    if (this.#idStart.length < count) {
      this.#idStart = new Int32Array(count * 2);
      this.#idEnd = new Int32Array(count * 2);
    }
    const span = this.#span;
    const now = keyOfTime(this.#now());
    const ingestKey = this.#usesHour ? now : now - (now % 100);
    let bytes = 0;
    for (let index = 0; index < count; index += 1) {
      const record = records[index]!;
      let key = ingestKey;
      if (!this.#options.index.isConstant) {
        this.#timestampPath.find(record, span);
        const found = dateKey(record, span);
        if (found >= 0) key = this.#usesHour ? found : found - (found % 100);
      }
      const prefix = this.#prefix(key);
      this.#prefixOf[index] = prefix;
      this.#idPath.find(record, span);
      let idBytes: number;
      if (isUsableId(record, span)) {
        const isString = record[span.start] === QUOTE;
        this.#idStart[index] = isString ? span.start + 1 : span.start;
        this.#idEnd[index] = isString ? span.end - 1 : span.end;
        this.#hashes[index] = undefined;
        idBytes = this.#idEnd[index]! - this.#idStart[index]!;
      } else {
        const digest = hash('sha256', record, 'base64url');
        this.#hashes[index] = digest;
        idBytes = digest.length;
      }
      bytes += prefix.length + idBytes + SUFFIX.length + record.length + 1;
    }
    const body = allocate(bytes);
    let at = 0;
    for (let index = 0; index < count; index += 1) {
      const record = records[index]!;
      const prefix = this.#prefixOf[index]!;
      body.set(prefix, at);
      at += prefix.length;
      const digest = this.#hashes[index];
      if (digest === undefined) {
        at += record.copy(body, at, this.#idStart[index], this.#idEnd[index]);
      } else {
        at += body.write(digest, at, 'latin1');
      }
      body.set(SUFFIX, at);
      at += SUFFIX.length;
      body.set(record, at);
      at += record.length;
      body[at++] = NEWLINE;
    }
    this.#prefixOf.fill(undefined as unknown as Buffer, 0, count);
    return body;
  }

  #prefix(key: number): Buffer {
    let prefix = this.#prefixes.get(key);
    if (prefix !== undefined) return prefix;
    if (this.#prefixes.size >= MAX_CACHED_PREFIXES) this.#prefixes.clear();
    const hour = key % 100;
    const day = Math.floor(key / 100) % 100;
    const month = Math.floor(key / 10_000) % 100;
    const year = Math.floor(key / 1_000_000);
    const name = this.#options.index.render(year, month, day, hour);
    prefix = Buffer.from(
      `{${JSON.stringify(this.#options.action)}:{"_index":${JSON.stringify(name)},"_id":"`,
    );
    this.#prefixes.set(key, prefix);
    return prefix;
  }
}

/** A string of 1 to MAX_ID_BYTES bytes as written (escapes only lengthen it), or a number. */
function isUsableId(record: Buffer, span: FieldSpan): boolean {
  if (span.start < 0) return false;
  const first = record[span.start]!;
  if (first === QUOTE) {
    const length = span.end - span.start - 2;
    return length >= 1 && length <= MAX_ID_BYTES;
  }
  return (first >= 0x30 && first <= 0x39) || first === 0x2d;
}
