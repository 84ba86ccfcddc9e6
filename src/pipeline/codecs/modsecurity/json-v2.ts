/**
 * ModSecurity 2's JSON records (`SecAuditLogFormat JSON` in mod_security
 * 2.9): `transaction` holds the time (with its offset), the id and the
 * addresses; `request.request_line`, `response.status`, and `audit_data`
 * the messages (as text lines, parsed like native section `H`), the
 * producer and the engine mode.
 */
import { headers, httpVersion, objectOr, port, text } from './json-values.ts';
import { parseMessageLine } from './message-line.ts';
import type { AuditFields } from './normalize.ts';
import { clfToIso } from './timestamp.ts';

type Json = Record<string, unknown>;

export function readV2Json(root: Json, transaction: Json): AuditFields {
  const request = objectOr(root.request);
  const response = objectOr(root.response);
  const audit = objectOr(root.audit_data);
  const [method, uri, version] = (text(request.request_line) ?? '').split(' ');
  const messages = [];
  let ruleHostname: string | undefined;
  if (Array.isArray(audit.messages)) {
    for (const line of audit.messages) {
      const parsed = parseMessageLine(String(line));
      messages.push(parsed.message);
      ruleHostname ??= parsed.hostname;
    }
  }
  const producer = Array.isArray(audit.producer) ? audit.producer.map(String) : [];
  const body = Array.isArray(request.body) ? request.body.join('') : text(request.body);
  return {
    format: 'json',
    timestamp: clfToIso(text(transaction.time) ?? ''),
    uniqueId: text(transaction.transaction_id),
    clientIp: text(transaction.remote_address),
    clientPort: port(transaction.remote_port),
    serverIp: text(transaction.local_address),
    serverPort: port(transaction.local_port),
    method: method || undefined,
    uri: uri || undefined,
    httpVersion: httpVersion(version),
    ruleHostname,
    requestHeaders: headers(request.headers),
    requestBody: body || undefined,
    status: port(response.status),
    responseHeaders: headers(response.headers),
    responseBody: text(response.body),
    producer: producer[0] ?? text(audit.producer),
    components: producer.length > 1 ? producer.slice(1) : undefined,
    engineMode: text(audit.engine_mode),
    messages,
  };
}
