import { z } from 'zod';

/** The TCP connection watcher inside `keepwire serve`. */
export const watchSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    /** How often the service samples every TCP socket. */
    intervalMs: z.number().int().min(100).default(5_000),
    /** Attribute sockets to processes (reads /proc/PID/fd; needs root for other users). */
    attribute: z.boolean().default(true),
    /**
     * Attribution re-reads only what can have changed; besides, every fd on
     * the host is read again within this time, a share at each sample.
     */
    fullRescanMs: z.number().int().min(1_000).default(300_000),
    /**
     * A full sample (every socket read one by one and attributed) at least
     * this often; the samples between count ESTABLISHED and TIME_WAIT
     * sockets and read the other states in full. 0: every sample is full.
     */
    fullSampleMs: z.number().int().min(0).default(60_000),
    /** How many CLOSE-WAIT holding processes are exported as metric labels. */
    topProcesses: z.number().int().min(1).max(100).default(10),
    /** How many samples are kept for findings and the dashboard (720 x 5 s: the last hour). */
    historySamples: z.number().int().min(2).max(10_000).default(720),
  })
  .prefault({});

export type WatchConfig = z.output<typeof watchSchema>;
