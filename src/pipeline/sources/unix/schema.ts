import { z } from 'zod';

/** The unix source: NDJSON over a stream Unix socket, trusted by file permission. */
export const unixSourceSchema = z.strictObject({
  type: z.literal('unix'),
  /** Socket path; relative paths are under DATA_DIR. Created mode 0660. */
  path: z.string().min(1).default('events.sock'),
  /** Largest single line (event); a longer one is counted and skipped. */
  maxLineBytes: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** At most this many client connections at once. */
  maxConnections: z.number().int().positive().default(256),
});

export type UnixSourceConfig = z.output<typeof unixSourceSchema>;
