/**
 * What `POST /v1/modsecurity` does with a body: ModSecurity's HTTPS audit
 * writer (`SecAuditLogType HTTPS`) posts one whole audit record per request,
 * JSON (ModSecurity 3 posts JSON whatever `SecAuditLogFormat` says) or
 * native, with `ModSec-unique-id` and `ModSec-status` headers. The record
 * becomes one normalized event (the shared ModSecurity decoder), serialised
 * once; a record that cannot be decoded throws ModsecurityRecordError (400).
 */
import type { IncomingHttpHeaders } from 'node:http';
import {
  decodeModsecurity,
  type ModsecurityDecodeOptions,
} from '../../codecs/modsecurity/index.ts';

export function decodeModsecurityBody(
  body: Buffer,
  headers: IncomingHttpHeaders,
  options?: ModsecurityDecodeOptions,
): Buffer {
  const event = decodeModsecurity(body.toString('utf8'), options);
  // A record without its own id still has the one its writer sent alongside.
  const headerId = headers['modsec-unique-id'];
  if (event.event.id === undefined && typeof headerId === 'string' && headerId !== '')
    event.event = { id: headerId, ...event.event };
  return Buffer.from(JSON.stringify(event));
}

/** Whether the request comes from ModSecurity's own writer (it sends `ModSec-*` headers). */
export function hasModsecurityHeaders(headers: IncomingHttpHeaders): boolean {
  for (const name in headers) if (name.startsWith('modsec-')) return true;
  return false;
}
