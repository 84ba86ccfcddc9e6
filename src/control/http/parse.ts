/** Request parsing for the control routes: every error names the field. */
import type { z } from 'zod';
import { BadRequestError } from '../../errors.ts';
import { TARGET_TYPES, type Target } from '../command.ts';

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  if (body === undefined || body === null) {
    throw new BadRequestError('the request needs a JSON body (Content-Type: application/json)');
  }
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.length > 0 ? issue.path.join('.') : '(body)';
  const detail =
    issue.code === 'unrecognized_keys'
      ? `unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  throw new BadRequestError(`${field}: ${detail}`);
}

/** `waitS` from a query: whole seconds, 0 to max; default when absent. */
export function parseWaitS(raw: unknown, defaultS: number, maxS: number): number {
  if (raw === undefined) return defaultS;
  const text = String(raw);
  if (!/^\d{1,5}$/.test(text) || Number(text) > maxS) {
    throw new BadRequestError(
      `query "waitS" must be a whole number of seconds from 0 to ${maxS}, got "${text}"`,
    );
  }
  return Number(text);
}

/** `agent:ID`, `group:NAME` or `component:NAME`. */
export function parseTargetText(text: string, field: string): Target {
  const colon = text.indexOf(':');
  const type = text.slice(0, colon);
  const id = text.slice(colon + 1);
  if (colon < 1 || id === '' || !(TARGET_TYPES as readonly string[]).includes(type)) {
    throw new BadRequestError(
      `${field} must be agent:ID, group:NAME or component:NAME, got "${text}"`,
    );
  }
  return { type: type as Target['type'], id };
}

export function parseLimit(raw: unknown, defaultLimit = 100, max = 1000): number {
  if (raw === undefined) return defaultLimit;
  const text = String(raw);
  if (!/^\d{1,4}$/.test(text) || Number(text) < 1 || Number(text) > max) {
    throw new BadRequestError(
      `query "limit" must be a whole number from 1 to ${max}, got "${text}"`,
    );
  }
  return Number(text);
}
