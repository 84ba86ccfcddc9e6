/**
 * A `_bulk` answer (HTTP 2xx), item by item. The response holds one item per
 * action, in the order sent: `{"errors": bool, "items": [{"create":
 * {"status": 201}}, {"create": {"status": 400, "error": {"type":
 * "mapper_parsing_exception", "reason": "..."}}}, ...]}`. The request asks
 * for only `errors` and each item's `status` and `error` (`filter_path`),
 * so an answer without errors is small and is not parsed at all.
 *
 * Per item: 2xx indexed; 409 on `create` already present (the `_id` is
 * there: a resend of a document already indexed), counted as delivered;
 * 429 and 5xx sent again; any other status (400 mapping errors, 404...)
 * refused for good, with the error's type and reason, for the dead-letter
 * file. An answer that is not this shape says nothing about any item:
 * BulkResponseInvalidError, and the whole send is retried.
 */
import { BulkResponseInvalidError } from '../../errors.ts';
import type { RejectedItem } from '../service.ts';
import type { BulkAction } from './bulk-encoder.ts';

export interface BulkOutcome {
  readonly indexed: number;
  readonly alreadyPresent: number;
  /** Indexes of the items to send again. */
  readonly retry: number[];
  readonly rejected: RejectedItem[];
}

/** How much of an item's error is kept for the dead-letter file. */
const ERROR_KEEP_CHARS = 2048;
/** Where `"errors":false` must appear: the start of the object, before `items`. */
const HEAD_BYTES = 64;
const NO_ERRORS = Buffer.from('"errors":false');

interface BulkItemResult {
  readonly status?: unknown;
  readonly error?: { readonly type?: unknown; readonly reason?: unknown };
}

export function readBulkResponse(body: Buffer, count: number, action: BulkAction): BulkOutcome {
  const head = body.indexOf(NO_ERRORS);
  if (head >= 0 && head < HEAD_BYTES) {
    return { indexed: count, alreadyPresent: 0, retry: [], rejected: [] };
  }
  let items: unknown;
  try {
    items = (JSON.parse(body.toString('utf8')) as { items?: unknown }).items;
  } catch (error) {
    throw invalid(`is not JSON (${(error as Error).message})`, body);
  }
  if (!Array.isArray(items) || items.length !== count) {
    throw invalid(
      Array.isArray(items)
        ? `has ${items.length} items for ${count} actions`
        : 'has no "items" array',
      body,
    );
  }
  let indexed = 0;
  let alreadyPresent = 0;
  const retry: number[] = [];
  const rejected: RejectedItem[] = [];
  for (let index = 0; index < count; index += 1) {
    const result = itemResult(items[index]);
    const status = result?.status;
    if (typeof status !== 'number') throw invalid(`item ${index} has no status`, body);
    if (status >= 200 && status < 300) indexed += 1;
    else if (status === 409 && action === 'create') alreadyPresent += 1;
    else if (status === 429 || status >= 500) retry.push(index);
    else rejected.push(rejection(index, status, result!.error));
  }
  return { indexed, alreadyPresent, retry, rejected };
}

/** `{"create": {...}}` -> `{...}`, whatever the action's name. */
function itemResult(item: unknown): BulkItemResult | undefined {
  if (item === null || typeof item !== 'object') return undefined;
  for (const key in item) return (item as Record<string, BulkItemResult>)[key];
  return undefined;
}

function rejection(index: number, status: number, error: BulkItemResult['error']): RejectedItem {
  const type = typeof error?.type === 'string' ? error.type : 'error';
  const reason = typeof error?.reason === 'string' ? error.reason : 'no reason given';
  const response = error === undefined ? undefined : JSON.stringify(error);
  return {
    index,
    status,
    reason: `the cluster refused the document with ${status} ${type}: ${reason}`,
    response:
      response !== undefined && response.length > ERROR_KEEP_CHARS
        ? `${response.slice(0, ERROR_KEEP_CHARS)}…`
        : response,
  };
}

function invalid(what: string, body: Buffer): BulkResponseInvalidError {
  const start = body.toString('utf8', 0, Math.min(body.length, 200));
  return new BulkResponseInvalidError(
    `the _bulk answer ${what}, so nothing is known of any document; the batch will be retried (is the endpoint OpenSearch or Elasticsearch, not a proxy answering for it?). It began: ${JSON.stringify(start)}`,
  );
}
