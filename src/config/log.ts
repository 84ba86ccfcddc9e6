import { z } from 'zod';

export const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  })
  .prefault({});

export type LogConfig = z.output<typeof logSchema>;
