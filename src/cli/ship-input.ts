/**
 * The input side of `keepwire ship`: `--from ndjson|modsecurity` (what the
 * inputs are, framed and decoded on the framing worker) and
 * `--storage-dir`, `--decode-threads`, and the report of malformed records, each with its file
 * and line.
 */
import { UsageError } from '../errors.ts';
import { defaultDecodeThreads } from '../pipeline/sources/decode-pool.ts';
import type { MalformedReason } from '../pipeline/sources/framing/record-framer.ts';

export interface InputFlags {
  from?: string;
  'storage-dir'?: string;
  'decode-threads'?: string;
}

/** The input flags, for `parseOptions` of the ship command. */
export const INPUT_OPTIONS = {
  from: { type: 'string' },
  'storage-dir': { type: 'string' },
  'decode-threads': { type: 'string' },
} as const;

/** The input part of `keepwire ship --help`. */
export const INPUT_HELP = `What from (the inputs):
  --from ndjson|modsecurity   ndjson (the default): one JSON object per line,
                           shipped as it is. modsecurity: ModSecurity audit
                           logs, each record parsed into one normalized
                           event (ECS fields, the original record kept);
                           detected record by record: serial logs in JSON or
                           Native (A to Z, v2 or v3 boundaries), and
                           concurrent-mode index files (each line names a
                           transaction's own file, read as one record).
                           A malformed record is reported with its file and
                           line (SHIP_RECORD_MALFORMED) and the run goes on
  --storage-dir DIR        modsecurity, concurrent index files: the
                           transaction files are under DIR (its
                           YYYYMMDD/YYYYMMDD-HHMM/ folders), whatever
                           directory the index names
  --decode-threads N       modsecurity: decode records on N threads at once
                           (framing stays in input order on its own thread;
                           events keep the input's order). 0 decodes on the
                           framing thread (default: one per core, here ${defaultDecodeThreads()})`;

export interface InputSettings {
  readonly from: 'ndjson' | 'modsecurity';
  readonly storageDir: string | undefined;
  /** modsecurity: threads of the decode pool; 0: decoded on the framing worker. */
  readonly decodeThreads: number;
}

/** More threads than this only add memory and switching. */
const MAX_DECODE_THREADS = 64;

export function resolveInput(flags: InputFlags): InputSettings {
  const from = flags.from ?? 'ndjson';
  if (from !== 'ndjson' && from !== 'modsecurity')
    throw new UsageError(`--from takes ndjson or modsecurity, got "${from}"`);
  if (flags['storage-dir'] !== undefined && from !== 'modsecurity')
    throw new UsageError('--storage-dir goes with --from modsecurity');
  const threads = flags['decode-threads'];
  if (threads !== undefined && from !== 'modsecurity')
    throw new UsageError('--decode-threads goes with --from modsecurity');
  const decodeThreads = threads === undefined ? defaultDecodeThreads() : Number(threads);
  if (!/^\d+$/.test(threads ?? '0') || decodeThreads > MAX_DECODE_THREADS)
    throw new UsageError(
      `--decode-threads takes a whole number from 0 to ${MAX_DECODE_THREADS}, got "${threads}"`,
    );
  return { from, storageDir: flags['storage-dir'], decodeThreads };
}

/** A malformed record of a run, as --json lists it. */
export interface MalformedEntry {
  readonly path: string;
  readonly line: number;
  readonly reason: MalformedReason;
  readonly detail: string;
}

/** Lines written to standard error, and entries kept for --json, at most. */
const MAX_REPORTED = 1000;

/** Reports each malformed ModSecurity record with its file and line, and keeps them for the summary. */
export class MalformedReport {
  readonly entries: MalformedEntry[] = [];
  readonly #stderr: NodeJS.WritableStream;
  /** Clears the progress line first on a terminal. */
  readonly #prefix: string;
  #count = 0;

  constructor(stderr: NodeJS.WritableStream, isTty: boolean) {
    this.#stderr = stderr;
    this.#prefix = isTty ? '\r\x1b[K' : '';
  }

  get count(): number {
    return this.#count;
  }

  add(path: string, reason: MalformedReason, line: number, detail: string | undefined): void {
    this.#count += 1;
    if (this.#count > MAX_REPORTED) return;
    const entry = { path, line, reason, detail: detail ?? reason };
    this.entries.push(entry);
    this.#stderr.write(
      `${this.#prefix}keepwire ship: SHIP_RECORD_MALFORMED ${path}:${line}: ${entry.detail}; skipped\n`,
    );
  }
}
