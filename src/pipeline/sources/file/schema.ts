import { z } from 'zod';

/** The file source: tails NDJSON files, or ModSecurity audit logs, matched by globs. */
export const fileSourceSchema = z
  .strictObject({
    type: z.literal('file'),
    /** Glob patterns (`/var/log/modsec/*.json`); relative ones are under the working directory. */
    include: z.array(z.string().min(1)).min(1, 'give at least one path or glob'),
    /** Where to start in a file seen for the first time at start-up; files appearing later are read from their start. */
    readFrom: z.enum(['start', 'end']).default('start'),
    /**
     * `ndjson`: one JSON object per line, appended as it is. `modsecurity`:
     * ModSecurity audit logs, each record decoded into one normalized event;
     * detected record by record: JSON lines and multi-line Native records (A
     * to Z) of a serial log, and the lines of a concurrent-mode index, each
     * naming the transaction file read as one record.
     */
    format: z.enum(['ndjson', 'modsecurity']).default('ndjson'),
    /**
     * modsecurity, concurrent mode: the directory that holds the transaction
     * files as Keepwire sees it, when the index names another one (a
     * container's volume). Replaces what comes before the index path's
     * `YYYYMMDD/YYYYMMDD-HHMM/FILE`; ModSecurity v2 writes that part only.
     */
    storageDir: z.string().min(1).optional(),
    /** How often to look for new data, new files, rotation and truncation. */
    pollIntervalMs: z.number().int().positive().default(250),
    /**
     * After a rotation, how long the old file is still read (through the
     * descriptor kept open) for what its writer appends before it reopens
     * the path, as logrotate without copytruncate leaves nginx and ModSecurity
     * writing until they are signalled. 0: the old file is read to its end once.
     */
    rotateWaitMs: z.number().int().min(0).default(5_000),
    /** Bytes of a line (ndjson), or of a whole record (modsecurity), at most; longer ones are skipped and counted. */
    maxLineBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Bytes read and appended at a time per file. */
    readChunkBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
  })
  .refine((config) => config.storageDir === undefined || config.format === 'modsecurity', {
    message: 'storageDir goes with format: modsecurity',
    path: ['storageDir'],
  });

export type FileSourceConfig = z.output<typeof fileSourceSchema>;
