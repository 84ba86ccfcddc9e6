import { defineSink } from '../definition.ts';
import { httpSinkSchema } from './config.ts';
import { createHttpSinkService } from './index.ts';

export const httpSink = defineSink(httpSinkSchema, createHttpSinkService);
