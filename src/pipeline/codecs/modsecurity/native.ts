/**
 * `SecAuditLogFormat Native` records: from the `A` boundary to the `Z`
 * boundary, one section per letter (`A` time stamp, id and addresses, `B`
 * request headers, `C` request body, `E` response body, `F` response
 * headers, `H` rule messages and, in ModSecurity 2, the producer; the rest
 * is kept only in `event.original`). The record is walked line by line
 * once; each section is a slice of it. Sections may be empty.
 */
import { isBoundaryOf, parseBoundary } from './boundary.ts';
import { ModsecurityRecordError } from './errors.ts';
import type { ModsecurityDecodeOptions } from './event.ts';
import { readA, readB, readE, readF, readH } from './native-sections.ts';
import type { AuditFields } from './normalize.ts';

export function readNative(record: string, _options: ModsecurityDecodeOptions): AuditFields {
  const sections = splitSections(record);
  const fields: AuditFields = { format: 'native', messages: [] };
  readA(sections.get('A') ?? '', fields);
  const b = sections.get('B');
  if (b !== undefined) readB(b, fields);
  const body = sections.get('C') || sections.get('I');
  if (body) fields.requestBody = body;
  const e = sections.get('E');
  if (e) fields.responseBody = readE(e);
  const f = sections.get('F');
  if (f !== undefined) readF(f, fields);
  const h = sections.get('H');
  if (h !== undefined) readH(h, fields);
  return fields;
}

/** Section letter -> its text (without its last line break). Throws without `A` first and `Z` last. */
function splitSections(record: string): Map<string, string> {
  let start = 0;
  while (start < record.length && isSpace(record.charCodeAt(start))) start++;
  let end = record.indexOf('\n', start);
  if (end === -1) end = record.length;
  const first = parseBoundary(record.slice(start, end));
  if (first === undefined || first.section !== 'A') {
    throw new ModsecurityRecordError(
      'the native record does not start with an A boundary (--ID-A-- or ---ID---A--)',
    );
  }
  const sections = new Map<string, string>();
  let section = 'A';
  let contentStart = end + 1;
  let at = end + 1;
  while (at < record.length) {
    let lineEnd = record.indexOf('\n', at);
    if (lineEnd === -1) lineEnd = record.length;
    // Most lines are not boundaries: look only at those starting with `--`.
    const next =
      record.charCodeAt(at) === 0x2d && record.charCodeAt(at + 1) === 0x2d
        ? isBoundaryOf(record.slice(at, lineEnd), first.id)
        : undefined;
    if (next !== undefined) {
      sections.set(section, sectionText(record, contentStart, at));
      if (next === 'Z') {
        if (record.slice(lineEnd).trim() !== '') {
          throw new ModsecurityRecordError(
            `the native record ${first.id} has text after its Z boundary; one record per entry`,
          );
        }
        return sections;
      }
      section = next;
      contentStart = lineEnd + 1;
    }
    at = lineEnd + 1;
  }
  throw new ModsecurityRecordError(
    `the native record ${first.id} has no Z boundary: it is cut short (truncated) after section ${section}`,
  );
}

function sectionText(record: string, from: number, to: number): string {
  let end = to;
  if (end > from && record.charCodeAt(end - 1) === 0x0a) end--;
  if (end > from && record.charCodeAt(end - 1) === 0x0d) end--;
  return from >= end ? '' : record.slice(from, end);
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
