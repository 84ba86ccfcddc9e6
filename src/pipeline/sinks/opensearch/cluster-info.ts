/**
 * What a node's `GET /` says about it: OpenSearch (and the Wazuh indexer,
 * built on it) answers `version.distribution: "opensearch"`; Elasticsearch
 * has no `distribution`. Both give `version.number` and `cluster_name`.
 */
import type { Dispatcher } from 'undici';
import type { SinkPool } from '../../../net/index.ts';

export interface ClusterInfo {
  /** `opensearch`, `elasticsearch`, or what the node named. */
  readonly distribution: string;
  readonly version: string;
  readonly clusterName: string | undefined;
}

export interface InfoAnswer {
  readonly status: number;
  /** Undefined when the answer was not a cluster's info (a 401, say). */
  readonly info: ClusterInfo | undefined;
}

/** Largest info answer read; a real one is under 1 KB. */
const MAX_INFO_BYTES = 64 * 1024;

export function parseClusterInfo(value: unknown): ClusterInfo | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const { version, cluster_name: clusterName } = value as {
    version?: { number?: unknown; distribution?: unknown };
    cluster_name?: unknown;
  };
  if (typeof version?.number !== 'string') return undefined;
  return {
    distribution: typeof version.distribution === 'string' ? version.distribution : 'elasticsearch',
    version: version.number,
    clusterName: typeof clusterName === 'string' ? clusterName : undefined,
  };
}

/** `GET path` through the endpoint's pool; rejects only when no answer came. */
export async function requestClusterInfo(
  pool: SinkPool,
  path: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<InfoAnswer> {
  const response = await pool.request({ method: 'GET', path, headers, signal });
  const text = await readLimited(response.body);
  if (response.statusCode !== 200) return { status: response.statusCode, info: undefined };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.statusCode, info: parseClusterInfo(parsed) };
}

async function readLimited(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    if (length < MAX_INFO_BYTES) chunks.push(chunk as Buffer);
    length += (chunk as Buffer).length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
