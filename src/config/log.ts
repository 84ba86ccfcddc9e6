import { z } from 'zod';

export const logSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** auto: human-readable on a terminal, JSON lines otherwise (files, journald, containers). */
    format: z.enum(['auto', 'json', 'pretty']).default('auto'),
  })
  .prefault({});

export type LogConfig = z.output<typeof logSchema>;
