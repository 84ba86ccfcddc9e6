/**
 * Builds the normalized event from what either format yields (the
 * `AuditFields` the JSON and native readers fill in), so both formats get
 * the same ECS fields by the same rules: the URL split into path and query;
 * the host name from the record, else the `Host` header (without its port),
 * else the rules' `hostname`; the user agent from a header named in any
 * case; rule ids, tags and the most severe severity from the messages.
 */
import type { ModsecurityEvent, ModsecurityMessage } from './event.ts';

export interface AuditFields {
  format: 'json' | 'native';
  timestamp?: string | undefined;
  uniqueId?: string | undefined;
  clientIp?: string | undefined;
  clientPort?: number | undefined;
  serverIp?: string | undefined;
  serverPort?: number | undefined;
  method?: string | undefined;
  uri?: string | undefined;
  httpVersion?: string | undefined;
  /** The record's own host name (newer ModSecurity 3 JSON: `request.hostname`). */
  hostname?: string | undefined;
  /**
   * The `[hostname "..."]` of the first rule message: often the server's
   * address rather than its name, so it comes after the `Host` header.
   */
  ruleHostname?: string | undefined;
  requestHeaders?: Record<string, string> | undefined;
  requestBody?: string | undefined;
  status?: number | undefined;
  responseHeaders?: Record<string, string> | undefined;
  responseBody?: string | undefined;
  producer?: string | undefined;
  connector?: string | undefined;
  components?: string[] | undefined;
  engineMode?: string | undefined;
  serverId?: string | undefined;
  isInterrupted?: boolean | undefined;
  messages: ModsecurityMessage[];
}

const SEVERITY_NAMES: Record<string, number> = {
  EMERGENCY: 0,
  ALERT: 1,
  CRITICAL: 2,
  ERROR: 3,
  WARNING: 4,
  NOTICE: 5,
  INFO: 6,
  DEBUG: 7,
};

export function normalize(fields: AuditFields, original: string): ModsecurityEvent {
  const rules = summarize(fields.messages);
  const event = {} as ModsecurityEvent;
  if (fields.timestamp !== undefined) event['@timestamp'] = fields.timestamp;
  const meta = {} as ModsecurityEvent['event'];
  if (fields.uniqueId !== undefined) meta.id = fields.uniqueId;
  meta.module = 'modsecurity';
  meta.dataset = 'modsecurity.audit';
  if (rules.severity !== undefined) meta.severity = rules.severity;
  meta.original = original;
  event.event = meta;
  if (fields.clientIp !== undefined || fields.clientPort !== undefined)
    event.source = endpoint(fields.clientIp, fields.clientPort);
  if (fields.serverIp !== undefined || fields.serverPort !== undefined)
    event.destination = endpoint(fields.serverIp, fields.serverPort);
  addHttp(event, fields);
  if (fields.uri !== undefined && fields.uri !== '') event.url = splitUrl(fields.uri);
  const agent = header(fields.requestHeaders, 'user-agent');
  if (agent !== undefined) event.user_agent = { original: agent };
  const host =
    fields.hostname || withoutPort(header(fields.requestHeaders, 'host')) || fields.ruleHostname;
  if (host) event.host = { name: host };
  if (rules.ids.length > 0) event.rule = { id: rules.ids };
  if (rules.tags.length > 0) event.tags = rules.tags;
  event.modsecurity = modsecurity(fields);
  return event;
}

function endpoint(ip: string | undefined, port: number | undefined) {
  const out: { ip?: string; port?: number } = {};
  if (ip !== undefined && ip !== '') out.ip = ip;
  if (port !== undefined && Number.isFinite(port) && port > 0) out.port = port;
  return out;
}

function addHttp(event: ModsecurityEvent, fields: AuditFields): void {
  const http: NonNullable<ModsecurityEvent['http']> = {};
  if (fields.httpVersion) http.version = fields.httpVersion;
  if (fields.method || fields.requestBody) {
    http.request = {};
    if (fields.method) http.request.method = fields.method;
    if (fields.requestBody) http.request.body = { content: fields.requestBody };
  }
  if (fields.status || fields.responseBody) {
    http.response = {};
    if (fields.status) http.response.status_code = fields.status;
    if (fields.responseBody) http.response.body = { content: fields.responseBody };
  }
  if (http.version !== undefined || http.request || http.response) event.http = http;
}

/** `/a/b?x=1` -> path `/a/b`, query `x=1`; an absolute URI loses its scheme and authority in `path`. */
export function splitUrl(uri: string): { original: string; path: string; query?: string } {
  let pathStart = 0;
  if (uri.charCodeAt(0) !== 0x2f /* / */) {
    const scheme = uri.indexOf('://');
    if (scheme !== -1) {
      const slash = uri.indexOf('/', scheme + 3);
      pathStart = slash === -1 ? uri.length : slash;
    }
  }
  const mark = uri.indexOf('?', pathStart);
  if (mark === -1) return { original: uri, path: uri.slice(pathStart) || '/' };
  return { original: uri, path: uri.slice(pathStart, mark) || '/', query: uri.slice(mark + 1) };
}

/** A header's value, its name matched in any case. */
export function header(headers: Record<string, string> | undefined, lowerName: string) {
  if (headers === undefined) return undefined;
  for (const name in headers)
    if (name.length === lowerName.length && name.toLowerCase() === lowerName) return headers[name];
  return undefined;
}

function withoutPort(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const text = host.trim();
  if (text.charCodeAt(0) === 0x5b /* [ */) {
    const close = text.indexOf(']');
    return close === -1 ? text : text.slice(1, close);
  }
  const colon = text.indexOf(':');
  return colon === -1 || colon !== text.lastIndexOf(':') ? text : text.slice(0, colon);
}

/** Rule ids and tags once each, in order of appearance; the most severe (lowest) severity. */
function summarize(messages: readonly ModsecurityMessage[]) {
  const ids: string[] = [];
  const tags: string[] = [];
  let severity: number | undefined;
  for (const message of messages) {
    if (message.rule_id && !ids.includes(message.rule_id)) ids.push(message.rule_id);
    if (message.tags) for (const tag of message.tags) if (!tags.includes(tag)) tags.push(tag);
    const level = severityLevel(message.severity);
    if (level !== undefined && (severity === undefined || level < severity)) severity = level;
  }
  return { ids, tags, severity };
}

function severityLevel(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  const number = Number(text);
  if (Number.isInteger(number) && number >= 0 && number <= 7) return number;
  return SEVERITY_NAMES[text.toUpperCase()];
}

function modsecurity(fields: AuditFields): ModsecurityEvent['modsecurity'] {
  const out = { format: fields.format } as ModsecurityEvent['modsecurity'];
  if (fields.producer) out.producer = fields.producer;
  if (fields.connector) out.connector = fields.connector;
  if (fields.components && fields.components.length > 0) out.components = fields.components;
  if (fields.engineMode) out.engine_mode = fields.engineMode;
  if (fields.serverId) out.server_id = fields.serverId;
  if (fields.isInterrupted !== undefined) out.is_interrupted = fields.isInterrupted;
  if (fields.requestHeaders) out.request_headers = fields.requestHeaders;
  if (fields.responseHeaders) out.response_headers = fields.responseHeaders;
  out.messages = fields.messages;
  return out;
}
