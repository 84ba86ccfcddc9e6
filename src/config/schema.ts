import { z } from 'zod';
import { adminSchema } from './admin.ts';
import { agentsSchema, controlSchema, socketSchema } from './control.ts';
import { logSchema } from './log.ts';
import { pipelineSchema } from './pipeline.ts';
import { watchSchema } from './watch.ts';

/**
 * The whole configuration: one strict schema per component, composed here.
 * Unknown keys are rejected; every duration and size carries its unit.
 */
export const configSchema = z.strictObject({
  /** Where state lives: tokens, addresses, buffers, the store. Default: defaultDataDir() (data-dir.ts), filled in by loadConfig. */
  dataDir: z.string().min(1),
  /**
   * At SIGTERM, how long requests in progress on the admin listener and the
   * http sources may take to finish before their connections are cut.
   */
  shutdownGraceMs: z.number().int().min(0).default(5_000),
  log: logSchema,
  admin: adminSchema,
  watch: watchSchema,
  agents: agentsSchema,
  socket: socketSchema,
  control: controlSchema,
  pipeline: pipelineSchema,
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
