/**
 * `Retry-After` (RFC 9110 §10.2.3) as the HTTP-speaking sinks (http,
 * opensearch) honour it: delay-seconds or an HTTP-date, capped at the sink's
 * `maxRetryAfterMs`, so a collector answering `Retry-After: 86400` delays a
 * batch by the cap, not by a day.
 */

/** The default of `maxRetryAfterMs` on every sink that honours Retry-After. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/**
 * Milliseconds from `now`, at most `maxMs`, or undefined when absent or
 * unparseable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number,
  maxMs: number,
): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, maxMs);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), maxMs);
}
