import { z } from 'zod';

/**
 * Rotating NDJSON files: the embedded default's sink. `path` is relative to
 * the data directory unless absolute; when the file would grow past
 * `maxFileBytes` it becomes `PATH.1` (older ones shift up) and at most
 * `maxFiles` rotated files are kept.
 */
export const fileSinkSchema = z.strictObject({
  type: z.literal('file'),
  path: z.string().min(1).default('out/events.ndjson'),
  maxFileBytes: z
    .number()
    .int()
    .min(1024)
    .default(64 * 1024 * 1024),
  maxFiles: z.number().int().min(1).max(1000).default(10),
});

export type FileSinkConfig = z.output<typeof fileSinkSchema>;
