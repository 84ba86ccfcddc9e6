/**
 * The ModSecurity audit-record decoder, shared by the file source, `keepwire
 * ship --from modsecurity` and the `/v1/modsecurity` intake. It takes one
 * whole record (a framer found where it ends): a `SecAuditLogFormat JSON`
 * line, or a native record from its `A` boundary through its `Z` boundary
 * (ModSecurity 2 `--0a1b2c3d-A--` or 3 `---5cmpJKxk---A--`), the format
 * detected per record, and returns one normalized event (event.ts) that
 * keeps the record as `event.original`. A record that cannot be decoded
 * throws ModsecurityRecordError (`SHIP_RECORD_MALFORMED`).
 */
import { parseBoundary } from './boundary.ts';
import { ModsecurityRecordError } from './errors.ts';
import type { ModsecurityDecodeOptions, ModsecurityEvent } from './event.ts';
import { readJson } from './json.ts';
import { readNative } from './native.ts';
import { type AuditFields, normalize } from './normalize.ts';

export { ModsecurityRecordError } from './errors.ts';
export type { ModsecurityDecodeOptions, ModsecurityEvent, ModsecurityMessage } from './event.ts';

const NO_OPTIONS: ModsecurityDecodeOptions = {};

/**
 * Which format a record starting with this line is in: `json` for a line
 * starting with `{`, `native` for an `A` boundary, else undefined.
 * Leading spaces are ignored.
 */
export function detectModsecurityFormat(firstLine: string): 'json' | 'native' | undefined {
  let at = 0;
  while (at < firstLine.length && isSpace(firstLine.charCodeAt(at))) at++;
  const code = firstLine.charCodeAt(at);
  if (code === 0x7b /* { */) return 'json';
  if (code !== 0x2d /* - */) return undefined;
  let end = firstLine.indexOf('\n', at);
  if (end === -1) end = firstLine.length;
  return parseBoundary(firstLine.slice(at, end))?.section === 'A' ? 'native' : undefined;
}

export function decodeModsecurity(
  record: string,
  options: ModsecurityDecodeOptions = NO_OPTIONS,
): ModsecurityEvent {
  return normalize(readFields(record, options), record);
}

/**
 * The normalized event as JSON text, exactly
 * `JSON.stringify(decodeModsecurity(record, options))`: what a sink writes,
 * and the call a framer should make, so that how the text is produced can
 * change here alone. Building the event and stringifying it whole is the
 * cheapest way measured (docs/benchmarks.md): writing the text piece by
 * piece, with JSON.stringify per value, cost 10-15 % more once the text
 * was written out, each call's overhead and the joined pieces outweighing
 * the objects saved.
 */
export function encodeModsecurityEvent(
  record: string,
  options: ModsecurityDecodeOptions = NO_OPTIONS,
): string {
  return JSON.stringify(normalize(readFields(record, options), record));
}

function readFields(record: string, options: ModsecurityDecodeOptions): AuditFields {
  const format = detectModsecurityFormat(record);
  if (format === undefined) throw new ModsecurityRecordError(describeUnknown(record));
  if (format === 'native' && record.includes('\u0000')) {
    throw new ModsecurityRecordError('the native record holds binary data (a NUL byte)');
  }
  return format === 'json' ? readJson(record, options) : readNative(record, options);
}

function describeUnknown(record: string): string {
  if (record.trim() === '') return 'the ModSecurity record is empty';
  if (hasBinary(record.slice(0, 256))) {
    return 'the ModSecurity record is binary data, neither JSON nor native';
  }
  return `the ModSecurity record is neither JSON (a line starting with "{") nor native (starting with an A boundary such as ---ID---A--): ${JSON.stringify(record.slice(0, 60))}`;
}

function hasBinary(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0xfffd)
      return true;
  }
  return false;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
