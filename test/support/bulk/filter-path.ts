/**
 * The `filter_path` query parameter of OpenSearch and Elasticsearch: a
 * comma-separated list of dotted paths, `*` matching any one key; arrays
 * are passed through without taking a segment (`items.*.status` keeps
 * each item's `<action>.status`). Keys left empty are dropped.
 */
export function filterPath(value: unknown, filter: string | undefined): unknown {
  if (filter === undefined || filter === '') return value;
  const paths = filter.split(',').map((path) => path.trim().split('.'));
  return pick(value, paths) ?? {};
}

function pick(value: unknown, paths: readonly string[][]): unknown {
  if (paths.some((path) => path.length === 0)) return value;
  if (Array.isArray(value)) {
    const kept = value.map((item) => pick(item, paths)).filter((item) => item !== undefined);
    return kept.length === 0 ? undefined : kept;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const rest = paths
      .filter((path) => path[0] === '*' || path[0] === key)
      .map((path) => path.slice(1));
    if (rest.length === 0) continue;
    const kept = pick(child, rest);
    if (kept !== undefined) result[key] = kept;
  }
  return Object.keys(result).length === 0 ? undefined : result;
}
