import { z } from 'zod';

/** A sink that counts and discards: the upper bound for benchmarks. */
export const blackholeSinkSchema = z.strictObject({
  type: z.literal('blackhole'),
});

export type BlackholeSinkConfig = z.output<typeof blackholeSinkSchema>;
