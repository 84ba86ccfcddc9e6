import { z } from 'zod';
import { fileSourceSchema } from './file/schema.ts';
import { httpSourceSchema } from './http/schema.ts';
import { unixSourceSchema } from './unix/schema.ts';

/** One source, tagged by `type`. */
export const sourceSchema = z.discriminatedUnion('type', [
  httpSourceSchema,
  unixSourceSchema,
  fileSourceSchema,
]);

export type SourceConfig = z.output<typeof sourceSchema>;
