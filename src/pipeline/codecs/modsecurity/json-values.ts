/**
 * Reading values out of a parsed JSON record the way real producers write
 * them: a field is a number in one version and a string in another, an
 * object may be missing. Anything of an unexpected type counts as absent.
 */

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function objectOr(value: unknown): Json {
  return isObject(value) ? value : {};
}

/** A string, or a number written as one; anything else is absent. */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export function port(value: unknown): number | undefined {
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number > 0 ? number : undefined;
}

/** `1.1`, `2` (a JSON number: `2.0` parses as 2), `"1.1"` or `"HTTP/1.1"` -> `"1.1"`, `"2.0"`. */
export function httpVersion(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value))
    return Number.isInteger(value) ? value.toFixed(1) : String(value);
  if (typeof value !== 'string' || value === '') return undefined;
  return value.startsWith('HTTP/') ? value.slice(5) : value;
}

export function headers(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  for (const name in value) {
    if (typeof value[name] !== 'string') value[name] = String(value[name]);
  }
  return value as Record<string, string>;
}

/** `OWASP_CRS/3.3.4"` (ModSecurity 3 keeps the quote of `SecComponentSignature`) -> `OWASP_CRS/3.3.4`. */
export function components(value: unknown): string[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: string[] = [];
  for (const item of value) {
    const name = String(item);
    const isQuoted = name.charCodeAt(0) === 0x22 || name.charCodeAt(name.length - 1) === 0x22;
    out.push(isQuoted ? name.replace(QUOTES, '') : name);
  }
  return out;
}

const QUOTES = /^"+|"+$/g;
