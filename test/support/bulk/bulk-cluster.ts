/**
 * A stand-in for an OpenSearch / Elasticsearch cluster in tests and
 * benchmarks (the real one cannot run here), speaking the `_bulk` protocol
 * as the OpenSearch Bulk API documents it:
 *
 * - the body is NDJSON: an action line (`{"create"|"index"|"delete"|
 *   "update": {"_index", "_id"}}`) followed, except for delete, by a source
 *   line; it must end with a newline; the index may come from the path
 *   (`POST /<index>/_bulk`);
 * - the answer is `{"took", "errors", "items": [{"<action>": {"_index",
 *   "_id", "_version", "result", "_shards", "_seq_no", "_primary_term",
 *   "status"}}]}`, one item per action in order, a failed item carrying
 *   `"error": {"type", "reason", ...}`: 409 `version_conflict_engine_exception`
 *   for a create of an `_id` that exists, 400 `mapper_parsing_exception` for
 *   a field that does not fit its mapping; `filter_path` is honoured;
 * - whole-request errors: 400 for a body not ending in a newline, a bad
 *   action line, a missing index or an `_id` over 512 bytes.
 *
 * It stores documents by index and `_id` (so a test can check that every
 * event is there exactly once) for every node of the cluster (bulk-node.ts)
 * alike. Faults are seeded: per item, per attempt, a share answered 429 or
 * 500; mapping errors come from `mappings` (a field declared `long` with a
 * value that is not a number), so they are the same on every resend.
 */
import { seededRandom } from '../seeded-random.ts';
import { filterPath } from './filter-path.ts';

export interface StoredDocument {
  readonly source: string;
  version: number;
  readonly seqNo: number;
}

export interface ItemFaults {
  /** Seed of the fault draws (print it; replay with it). */
  readonly seed: number;
  /** Share of items answered 429 (es_rejected_execution_exception), per attempt. */
  readonly rate429: number;
  /** Share of items answered 500, per attempt. */
  readonly rate500: number;
}

export interface BulkAnswer {
  readonly status: number;
  readonly body: string;
  /** Actions the request held, when it was read that far. */
  readonly actions?: number;
}

const MAX_ID_BYTES = 512;
const NEWLINE = 0x0a;

/** One action of a request; its source is bytes [start, end) of the body (-1: delete). */
interface BulkAction {
  readonly name: string;
  readonly index: string;
  readonly id: string | undefined;
  readonly body: Buffer;
  readonly start: number;
  readonly end: number;
}

export class BulkCluster {
  readonly name: string;
  readonly flavor: 'opensearch' | 'elasticsearch';
  readonly indices = new Map<string, Map<string, StoredDocument>>();
  /** Fields and their type, as an index mapping would hold them (`long` only). */
  mappings: Record<string, 'long'> = {};
  faults: ItemFaults | undefined;
  /** Items answered, by status. */
  readonly itemStatuses = new Map<number, number>();
  bulkRequests = 0;
  /** Called after each `_bulk` request was applied, before it is answered. */
  afterBulk: (() => void) | undefined;
  #random: () => number = Math.random;
  #seqNo = 0;

  /**
   * False (benchmarks): sources are neither parsed nor kept (no mapping
   * checks, no `documents()`, no `update`), only each document's index,
   * `_id` and version, so a long run neither decodes nor holds every body.
   */
  readonly #keepsSources: boolean;

  constructor(
    options: {
      name?: string;
      flavor?: 'opensearch' | 'elasticsearch';
      keepSources?: boolean;
    } = {},
  ) {
    this.#keepsSources = options.keepSources ?? true;
    this.name = options.name ?? 'keepwire-test';
    this.flavor = options.flavor ?? 'opensearch';
  }

  setFaults(faults: ItemFaults | undefined): void {
    this.faults = faults;
    if (faults) this.#random = seededRandom(faults.seed);
  }

  /** Documents stored, over every index. */
  get documentCount(): number {
    let count = 0;
    for (const documents of this.indices.values()) count += documents.size;
    return count;
  }

  /** Every stored document as [index, id, parsed source]. */
  *documents(): Generator<[string, string, Record<string, unknown>]> {
    if (!this.#keepsSources) throw new Error('this cluster does not keep sources (keepSources)');
    for (const [index, documents] of this.indices)
      for (const [id, document] of documents) yield [index, id, JSON.parse(document.source)];
  }

  /** Stores a document as if an earlier run had indexed it. */
  put(index: string, id: string, source: string): void {
    this.#index(index).set(id, { source, version: 1, seqNo: this.#seqNo++ });
  }

  /** The answer of `GET /`, as the distribution gives it. */
  info(nodeName: string): Record<string, unknown> {
    const opensearch = this.flavor === 'opensearch';
    return {
      name: nodeName,
      cluster_name: this.name,
      cluster_uuid: 'kEePw1reTeStClUsTeRuUiD',
      version: {
        ...(opensearch
          ? { distribution: 'opensearch', number: '2.19.1' }
          : { number: '8.15.0', build_flavor: 'default' }),
        build_type: 'tar',
        build_hash: '0000000000000000000000000000000000000000',
        build_date: '2025-01-01T00:00:00.000Z',
        build_snapshot: false,
        lucene_version: '9.12.1',
        minimum_wire_compatibility_version: '7.10.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: opensearch
        ? 'The OpenSearch Project: https://opensearch.org/'
        : 'You Know, for Search',
    };
  }

  /**
   * One `_bulk` request: the body (decompressed, UTF-8 bytes), the index of
   * the path, the query. The body is walked line by line in its bytes; only
   * the action lines are decoded, and the sources only when they are kept.
   */
  bulk(body: Buffer, pathIndex: string | undefined, query: URLSearchParams): BulkAnswer {
    this.bulkRequests += 1;
    const started = performance.now();
    if (body.length > 0 && body[body.length - 1] !== NEWLINE)
      return requestError(
        400,
        'illegal_argument_exception',
        'The bulk request must be terminated by a newline [\\n]',
      );
    const actions: BulkAction[] = [];
    for (let at = 0, lineNumber = 0; at < body.length; ) {
      const end = body.indexOf(NEWLINE, at);
      const line = body.toString('utf8', at, end);
      at = end + 1;
      lineNumber += 1;
      if (line.trim() === '') continue;
      let action: Record<string, { _index?: unknown; _id?: unknown }>;
      try {
        action = JSON.parse(line);
      } catch {
        return requestError(
          400,
          'x_content_parse_exception',
          `[1:1] Malformed action/metadata line [${lineNumber}], expected START_OBJECT`,
        );
      }
      const [name, meta] = Object.entries(action)[0] ?? [];
      if (name === undefined || !['create', 'index', 'delete', 'update'].includes(name))
        return requestError(
          400,
          'illegal_argument_exception',
          `Malformed action/metadata line [${lineNumber}], expected one of [create, delete, index, update] but found [${name}]`,
        );
      const index = typeof meta?._index === 'string' ? meta._index : pathIndex;
      if (index === undefined)
        return requestError(
          400,
          'action_request_validation_exception',
          'Validation Failed: 1: index is missing;',
        );
      const id = typeof meta?._id === 'string' ? meta._id : undefined;
      if (id !== undefined && Buffer.byteLength(id) > MAX_ID_BYTES)
        return requestError(
          400,
          'action_request_validation_exception',
          `Validation Failed: 1: id [${id}] is too long, must be no longer than 512 bytes but was: ${Buffer.byteLength(id)};`,
        );
      if (name === 'delete') {
        actions.push({ name, index, id, body, start: -1, end: -1 });
        continue;
      }
      if (at >= body.length)
        return requestError(
          400,
          'illegal_argument_exception',
          `The bulk request must be terminated by a newline [\\n]`,
        );
      const sourceEnd = body.indexOf(NEWLINE, at);
      actions.push({ name, index, id, body, start: at, end: sourceEnd });
      at = sourceEnd + 1;
      lineNumber += 1;
    }
    if (query.get('pipeline') === 'missing-pipeline')
      return requestError(
        400,
        'illegal_argument_exception',
        'pipeline with id [missing-pipeline] does not exist',
      );
    const items = actions.map((action) => ({ [action.name]: this.#apply(action) }));
    const errors = items.some((item) => Object.values(item)[0]!.status >= 300);
    const answer = { took: Math.round(performance.now() - started), errors, items };
    this.afterBulk?.();
    const filtered = filterPath(answer, query.get('filter_path') ?? undefined);
    return { status: 200, body: JSON.stringify(filtered), actions: actions.length };
  }

  #apply(action: BulkAction): Record<string, unknown> & { status: number } {
    const id = action.id ?? randomId();
    const head = { _index: action.index, _id: id };
    const fault = this.#fault();
    if (fault !== undefined)
      return this.#count({
        ...head,
        status: fault.status,
        error: { ...fault.error, index: action.index },
      });
    const documents = this.#index(action.index);
    const existing = documents.get(id);
    if (action.name === 'delete') {
      if (existing) documents.delete(id);
      return this.#count({
        ...head,
        _version: (existing?.version ?? 0) + 1,
        result: existing ? 'deleted' : 'not_found',
        ...this.#shards(),
        status: existing ? 200 : 404,
      });
    }
    if (!this.#keepsSources) {
      if (action.name === 'update') throw new Error('update needs a cluster that keeps sources');
      return this.#store(action, id, existing, '');
    }
    let source: Record<string, unknown>;
    try {
      source = JSON.parse(action.body.toString('utf8', action.start, action.end));
      if (source === null || typeof source !== 'object' || Array.isArray(source))
        throw new Error('not an object');
    } catch {
      return this.#count({
        ...head,
        status: 400,
        error: { type: 'mapper_parsing_exception', reason: 'failed to parse', index: action.index },
      });
    }
    if (action.name === 'update') {
      if (!existing)
        return this.#count({
          ...head,
          status: 404,
          error: {
            type: 'document_missing_exception',
            reason: `[${id}]: document missing`,
            index: action.index,
          },
        });
      source = { ...JSON.parse(existing.source), ...(source.doc as object) };
    }
    const mappingError = this.#checkMapping(source, id);
    if (mappingError)
      return this.#count({ ...head, status: 400, error: { ...mappingError, index: action.index } });
    return this.#store(action, id, existing, JSON.stringify(source));
  }

  /** Creates or replaces the document: 409 for a create of an existing `_id`. */
  #store(
    action: { name: string; index: string },
    id: string,
    existing: StoredDocument | undefined,
    source: string,
  ): Record<string, unknown> & { status: number } {
    if (existing && action.name === 'create') {
      return this.#count({
        _index: action.index,
        _id: id,
        status: 409,
        error: {
          type: 'version_conflict_engine_exception',
          reason: `[${id}]: version conflict, document already exists (current version [${existing.version}])`,
          index: action.index,
          shard: '0',
        },
      });
    }
    const version = (existing?.version ?? 0) + 1;
    this.#index(action.index).set(id, { source, version, seqNo: this.#seqNo++ });
    return this.#count({
      _index: action.index,
      _id: id,
      _version: version,
      result: existing ? 'updated' : 'created',
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: this.#seqNo,
      _primary_term: 1,
      status: existing ? 200 : 201,
    });
  }

  #fault(): { status: number; error: Record<string, unknown> } | undefined {
    const faults = this.faults;
    if (!faults) return undefined;
    const roll = this.#random();
    if (roll < faults.rate429) {
      return {
        status: 429,
        error: {
          type: 'es_rejected_execution_exception',
          reason:
            'rejected execution of coordinating operation [coordinating_and_primary_bytes=104857600, max_coordinating_and_primary_bytes=104857600]',
        },
      };
    }
    if (roll < faults.rate429 + faults.rate500) {
      return {
        status: 500,
        error: { type: 'exception', reason: 'simulated shard failure (test server)' },
      };
    }
    return undefined;
  }

  #checkMapping(source: Record<string, unknown>, id: string): Record<string, unknown> | undefined {
    for (const field of Object.keys(this.mappings)) {
      let value: unknown = source;
      for (const key of field.split('.'))
        value = (value as Record<string, unknown> | undefined)?.[key];
      if (
        value === undefined ||
        typeof value === 'number' ||
        (typeof value === 'string' && /^-?\d+$/.test(value))
      )
        continue;
      return {
        type: 'mapper_parsing_exception',
        reason: `failed to parse field [${field}] of type [long] in document with id '${id}'. Preview of field's value: '${String(value)}'`,
        caused_by: {
          type: 'illegal_argument_exception',
          reason: `For input string: "${String(value)}"`,
        },
      };
    }
    return undefined;
  }

  #count<T extends { status: number }>(item: T): T {
    this.itemStatuses.set(item.status, (this.itemStatuses.get(item.status) ?? 0) + 1);
    return item;
  }

  #shards() {
    return {
      _shards: { total: 2, successful: 1, failed: 0 },
      _seq_no: this.#seqNo,
      _primary_term: 1,
    };
  }

  #index(name: string): Map<string, StoredDocument> {
    let documents = this.indices.get(name);
    if (!documents) {
      documents = new Map();
      this.indices.set(name, documents);
    }
    return documents;
  }
}

export function requestError(status: number, type: string, reason: string): BulkAnswer {
  return {
    status,
    body: JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }),
  };
}

function randomId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(15))).toString('base64url');
}
