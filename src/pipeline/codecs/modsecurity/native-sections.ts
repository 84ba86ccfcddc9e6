/**
 * The sections of a native record that carry ECS fields. Each reads its
 * text (boundaries removed) into the shared `AuditFields`.
 */
import { ModsecurityRecordError } from './errors.ts';
import { httpVersion } from './json-values.ts';
import { parseMessageLine } from './message-line.ts';
import type { AuditFields } from './normalize.ts';
import { clfToIso } from './timestamp.ts';

/** `[23/Nov/2026:04:39:10 +0000] UNIQUE_ID CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT` */
export function readA(text: string, fields: AuditFields): void {
  const line = text.trim();
  const close = line.indexOf('] ');
  const parts = close === -1 ? [] : line.slice(close + 2).split(' ');
  const timestamp = close === -1 ? undefined : clfToIso(line.slice(0, close + 1));
  if (timestamp === undefined || parts.length < 1 || parts[0] === '') {
    throw new ModsecurityRecordError(
      `section A of the native record is not "[dd/Mon/yyyy:HH:MM:SS +zzzz] ID CLIENT_IP CLIENT_PORT SERVER_IP SERVER_PORT": ${JSON.stringify(line.slice(0, 120))}`,
    );
  }
  fields.timestamp = timestamp;
  fields.uniqueId = parts[0];
  fields.clientIp = parts[1];
  fields.clientPort = portOf(parts[2]);
  fields.serverIp = parts[3];
  fields.serverPort = portOf(parts[4]);
}

/** The request line and its headers. */
export function readB(text: string, fields: AuditFields): void {
  const lines = text.split('\n');
  const requestLine = lines[0]!.trimEnd();
  const first = requestLine.indexOf(' ');
  const last = requestLine.lastIndexOf(' ');
  if (first !== -1) {
    fields.method = requestLine.slice(0, first);
    if (last > first && requestLine.startsWith('HTTP/', last + 1)) {
      fields.uri = requestLine.slice(first + 1, last);
      fields.httpVersion = httpVersion(requestLine.slice(last + 1));
    } else fields.uri = requestLine.slice(first + 1);
  }
  fields.requestHeaders = headerLines(lines);
}

/** The response body; ModSecurity 3 writes CR, LF and other control bytes as `\xHH`. */
export function readE(text: string): string {
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  let at = body.indexOf('\\x');
  if (at === -1) return body;
  let out = '';
  let from = 0;
  while (at !== -1) {
    const code = controlByte(body, at + 2);
    if (code === -1) at = body.indexOf('\\x', at + 1);
    else {
      out += body.slice(from, at) + String.fromCharCode(code);
      from = at + 4;
      at = body.indexOf('\\x', from);
    }
  }
  return out + body.slice(from);
}

/** The byte `00`-`1f` or `7f` (any case) written at `at`, or -1: what `\\x` escapes. */
function controlByte(text: string, at: number): number {
  const high = text.charCodeAt(at);
  const low = hexDigit(text.charCodeAt(at + 1));
  if (low === -1) return -1;
  if (high === 0x30 || high === 0x31) return (high - 0x30) * 16 + low;
  return high === 0x37 && low === 15 ? 0x7f : -1;
}

function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/** `HTTP/1.1 403` (a reason may follow) and the response headers. */
export function readF(text: string, fields: AuditFields): void {
  const lines = text.split('\n');
  const statusLine = lines[0]!.trim();
  const space = statusLine.indexOf(' ');
  if (space !== -1) {
    const status = Number.parseInt(statusLine.slice(space + 1, space + 4), 10);
    if (status > 0) fields.status = status;
  }
  fields.responseHeaders = headerLines(lines);
}

/** One message per `ModSecurity:` (v3) or `Message:` (v2) line; v2 adds `Producer:` and `Engine-Mode:`. */
export function readH(text: string, fields: AuditFields): void {
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const colon = line.indexOf(': ');
    if (colon === -1) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 2);
    if (name === 'ModSecurity' || name === 'Message') {
      const parsed = parseMessageLine(value);
      fields.messages.push(parsed.message);
      fields.ruleHostname ??= parsed.hostname;
    } else if (name === 'Producer') {
      const [producer, ...components] = value.replace(/\.$/, '').split('; ');
      fields.producer = producer;
      if (components.length > 0) fields.components = components;
    } else if (name === 'Engine-Mode') fields.engineMode = value.replace(/^"|"$/g, '');
  }
}

/** `Name: value` lines after the first; the value keeps what follows `: `. */
function headerLines(lines: readonly string[]): Record<string, string> {
  const headers: Record<string, string> = {};
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    let value = line.slice(colon + 1);
    if (value.charCodeAt(0) === 0x20) value = value.slice(1);
    headers[line.slice(0, colon)] = value.endsWith('\r') ? value.slice(0, -1) : value;
  }
  return headers;
}

function portOf(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
