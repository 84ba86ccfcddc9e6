import { defineSink } from '../definition.ts';
import { fileSinkSchema } from './config.ts';
import { createFileSinkService } from './index.ts';

export const fileSink = defineSink(fileSinkSchema, createFileSinkService);
