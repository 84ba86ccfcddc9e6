import { defineSink } from '../definition.ts';
import { opensearchSinkSchema } from './config.ts';
import { createOpensearchSinkService } from './index.ts';

export const opensearchSink = defineSink(opensearchSinkSchema, createOpensearchSinkService);
