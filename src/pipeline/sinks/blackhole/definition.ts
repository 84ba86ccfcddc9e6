import { defineSink } from '../definition.ts';
import { blackholeSinkSchema } from './config.ts';
import { createBlackholeSinkService } from './index.ts';

export const blackholeSink = defineSink(blackholeSinkSchema, createBlackholeSinkService);
