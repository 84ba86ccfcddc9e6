/**
 * JSON request bodies on the API listeners: nesting is counted in one pass
 * over the text before anything parses it, so 100,000 levels of `[` are a 400
 * naming the limit rather than a stack overflow further on (JSON.parse copes;
 * every recursive walk after it would not). Bodies then go to fastify's own
 * parser, which keeps its `__proto__` and `constructor` checks.
 */
import type { FastifyInstance } from 'fastify';
import { BadRequestError, UnsupportedEncodingError } from '../errors.ts';

/** Deeper JSON bodies are refused: no command or result needs more. */
export const MAX_JSON_DEPTH = 128;

/** The nesting depth of JSON text, stopping early once above `limit`; strings are skipped. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x22) {
      // Skip the string: an escaped character never ends it.
      for (i += 1; i < text.length; i++) {
        const inner = text.charCodeAt(i);
        if (inner === 0x5c) i += 1;
        else if (inner === 0x22) break;
      }
    } else if (code === 0x5b || code === 0x7b) {
      depth += 1;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (code === 0x5d || code === 0x7d) {
      depth -= 1;
    }
  }
  return deepest;
}

/** Replaces fastify's JSON parser with a depth check in front of it. */
export function useCheckedJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepth(body as string) > MAX_JSON_DEPTH) {
      done(
        new BadRequestError(
          `the JSON body is nested deeper than ${MAX_JSON_DEPTH} levels; flatten it`,
        ),
        undefined,
      );
      return;
    }
    parse(request, body as string, done);
  });
}

/**
 * API listeners take bodies as sent: any Content-Encoding but identity is
 * answered 415 before the body is read (the http source decodes gzip itself).
 */
export function refuseContentEncoding(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const encoding = request.headers['content-encoding'];
    if (encoding === undefined || encoding.trim().toLowerCase() === 'identity') return;
    throw new UnsupportedEncodingError(encoding, 'send the body unencoded');
  });
}
