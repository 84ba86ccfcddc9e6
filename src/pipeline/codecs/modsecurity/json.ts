/**
 * `SecAuditLogFormat JSON` records. ModSecurity 3 writes everything under
 * `transaction` (`time_stamp` in `%c` local time, `request`, `response`,
 * `producer`, `messages[].details`); ModSecurity 2 writes `transaction`
 * (`time` with an offset, `transaction_id`), `request`, `response` and
 * `audit_data` side by side (json-v2.ts). The record is parsed once; values
 * real producers write as numbers or strings are read as either.
 */

import { ModsecurityRecordError } from './errors.ts';
import type { ModsecurityDecodeOptions, ModsecurityMessage } from './event.ts';
import { readV2Json } from './json-v2.ts';
import { components, headers, httpVersion, isObject, objectOr, port, text } from './json-values.ts';
import type { AuditFields } from './normalize.ts';
import { ctimeToIso } from './timestamp.ts';

export function readJson(record: string, options: ModsecurityDecodeOptions): AuditFields {
  let root: unknown;
  try {
    root = JSON.parse(record);
  } catch (error) {
    const reason = isCutShort(record, (error as Error).message)
      ? 'it is cut short (truncated JSON)'
      : `it is not valid JSON (${(error as Error).message})`;
    throw new ModsecurityRecordError(`the ModSecurity JSON record cannot be read: ${reason}`, {
      cause: error,
    });
  }
  const transaction = isObject(root) ? root.transaction : undefined;
  if (!isObject(root) || !isObject(transaction)) {
    throw new ModsecurityRecordError(
      'the JSON record has no "transaction" object: it is not a ModSecurity audit record',
    );
  }
  if (transaction.unique_id === undefined && transaction.transaction_id !== undefined)
    return readV2Json(root, transaction);
  const request = objectOr(transaction.request);
  const response = objectOr(transaction.response);
  const producer = objectOr(transaction.producer);
  return {
    format: 'json',
    timestamp: ctimeToIso(text(transaction.time_stamp) ?? '', options.localTimeZone ?? 'local'),
    uniqueId: text(transaction.unique_id),
    clientIp: text(transaction.client_ip),
    clientPort: port(transaction.client_port),
    serverIp: text(transaction.host_ip),
    serverPort: port(transaction.host_port),
    method: text(request.method),
    uri: text(request.uri),
    httpVersion: httpVersion(request.http_version),
    hostname: text(request.hostname) ?? text(transaction.hostname),
    requestHeaders: headers(request.headers),
    requestBody: text(request.body),
    status: port(response.http_code),
    responseHeaders: headers(response.headers),
    responseBody: text(response.body),
    producer: text(producer.modsecurity),
    connector: text(producer.connector),
    components: components(producer.components),
    engineMode: text(producer.secrules_engine),
    serverId: text(transaction.server_id),
    isInterrupted:
      typeof transaction.is_interrupted === 'boolean' ? transaction.is_interrupted : undefined,
    messages: Array.isArray(transaction.messages) ? transaction.messages.map(message) : [],
  };
}

/** Whether JSON.parse failed at the very end of the text, as it does on a record cut short. */
function isCutShort(record: string, reason: string): boolean {
  if (/end of (?:JSON )?input|Unterminated/i.test(reason)) return true;
  const position = /at position (\d+)/.exec(reason);
  return position !== null && Number(position[1]) >= record.trimEnd().length;
}

/**
 * One `messages[]` item. Each key is assigned by name (not through a
 * helper taking the key), so the stores stay monomorphic on this hot path.
 */
function message(item: unknown): ModsecurityMessage {
  const out: ModsecurityMessage = {};
  if (!isObject(item)) return out;
  const details = objectOr(item.details);
  const messageText = text(item.message);
  if (messageText !== undefined) out.message = messageText;
  const ruleId = text(details.ruleId);
  if (ruleId !== undefined) out.rule_id = ruleId;
  const severity = text(details.severity);
  if (severity !== undefined) out.severity = severity;
  const data = text(details.data);
  if (data !== undefined) out.data = data;
  const match = text(details.match);
  if (match !== undefined) out.match = match;
  if (Array.isArray(details.tags) && details.tags.length > 0) out.tags = details.tags.map(String);
  const file = text(details.file);
  if (file !== undefined) out.file = file;
  const line = text(details.lineNumber);
  if (line !== undefined) out.line = line;
  const reference = text(details.reference);
  if (reference !== undefined) out.reference = reference;
  const ver = text(details.ver);
  if (ver !== undefined) out.ver = ver;
  const rev = text(details.rev);
  if (rev !== undefined) out.rev = rev;
  const maturity = text(details.maturity);
  if (maturity !== undefined) out.maturity = maturity;
  const accuracy = text(details.accuracy);
  if (accuracy !== undefined) out.accuracy = accuracy;
  return out;
}
