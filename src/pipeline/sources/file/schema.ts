import { z } from 'zod';

/** The file source: tails NDJSON files matched by globs. */
export const fileSourceSchema = z.strictObject({
  type: z.literal('file'),
  /** Glob patterns (`/var/log/modsec/*.json`); relative ones are under the working directory. */
  include: z.array(z.string().min(1)).min(1, 'give at least one path or glob'),
  /** Where to start in a file seen for the first time at start-up; files appearing later are read from their start. */
  readFrom: z.enum(['start', 'end']).default('start'),
  /** How often to look for new data, new files, rotation and truncation. */
  pollIntervalMs: z.number().int().positive().default(250),
  /**
   * After a rotation, how long the old file is still read (through the
   * descriptor kept open) for what its writer appends before it reopens
   * the path, as logrotate without copytruncate leaves nginx and ModSecurity
   * writing until they are signalled. 0: the old file is read to its end once.
   */
  rotateWaitMs: z.number().int().min(0).default(5_000),
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
});

export type FileSourceConfig = z.output<typeof fileSourceSchema>;
