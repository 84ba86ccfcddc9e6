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

function message(item: unknown): ModsecurityMessage {
  const out: ModsecurityMessage = {};
  if (!isObject(item)) return out;
  const details = objectOr(item.details);
  set(out, 'message', text(item.message));
  set(out, 'rule_id', text(details.ruleId));
  set(out, 'severity', text(details.severity));
  set(out, 'data', text(details.data));
  set(out, 'match', text(details.match));
  if (Array.isArray(details.tags) && details.tags.length > 0) out.tags = details.tags.map(String);
  set(out, 'file', text(details.file));
  set(out, 'line', text(details.lineNumber));
  set(out, 'reference', text(details.reference));
  set(out, 'ver', text(details.ver));
  set(out, 'rev', text(details.rev));
  set(out, 'maturity', text(details.maturity));
  set(out, 'accuracy', text(details.accuracy));
  return out;
}

function set(
  out: ModsecurityMessage,
  key: Exclude<keyof ModsecurityMessage, 'tags'>,
  value: string | undefined,
) {
  if (value !== undefined) out[key] = value;
}
