/**
 * The `filter_path` query parameter of OpenSearch and Elasticsearch: a
 * comma-separated list of dotted paths, `*` matching any one key; arrays
 * are passed through without taking a segment (`items.*.status` keeps
 * each item's `<action>.status`). Keys left empty are dropped.
 *
 * The paths are compiled once into a tree (a key's subtree, `*`'s merged
 * in on first use and cached), so a benchmark's thousands of items per
 * answer cost one lookup per key, not a filter of every path.
 */
export function filterPath(value: unknown, filter: string | undefined): unknown {
  if (filter === undefined || filter === '') return value;
  return pick(value, compile(filter)) ?? {};
}

/** A node of the compiled paths: `isWhole` keeps everything below; `children` by key. */
interface PathTree {
  isWhole: boolean;
  readonly children: Map<string, PathTree>;
  /** The subtree a key not in `children` gets (`*`'s), and each key's merged subtree. */
  readonly merged: Map<string, PathTree | undefined>;
}

const compiled = new Map<string, PathTree>();

function compile(filter: string): PathTree {
  let tree = compiled.get(filter);
  if (tree !== undefined) return tree;
  tree = newTree();
  for (const path of filter.split(',')) add(tree, path.trim().split('.'));
  compiled.set(filter, tree);
  return tree;
}

function newTree(): PathTree {
  return { isWhole: false, children: new Map(), merged: new Map() };
}

function add(tree: PathTree, path: readonly string[]): void {
  if (path.length === 0) {
    tree.isWhole = true;
    return;
  }
  let child = tree.children.get(path[0]!);
  if (child === undefined) {
    child = newTree();
    tree.children.set(path[0]!, child);
  }
  add(child, path.slice(1));
}

/** The subtree for `key`: its own paths and the `*` paths together. */
function childFor(tree: PathTree, key: string): PathTree | undefined {
  if (tree.merged.has(key)) return tree.merged.get(key);
  const own = key === '*' ? undefined : tree.children.get(key);
  const star = tree.children.get('*');
  let merged = own ?? star;
  if (own !== undefined && star !== undefined) {
    merged = newTree();
    for (const source of [own, star]) merge(merged, source);
  }
  tree.merged.set(key, merged);
  return merged;
}

function merge(into: PathTree, from: PathTree): void {
  if (from.isWhole) into.isWhole = true;
  for (const [key, child] of from.children) {
    let target = into.children.get(key);
    if (target === undefined) {
      target = newTree();
      into.children.set(key, target);
    }
    merge(target, child);
  }
}

function pick(value: unknown, tree: PathTree): unknown {
  if (tree.isWhole) return value;
  if (Array.isArray(value)) {
    const kept: unknown[] = [];
    for (const item of value) {
      const picked = pick(item, tree);
      if (picked !== undefined) kept.push(picked);
    }
    return kept.length === 0 ? undefined : kept;
  }
  if (value === null || typeof value !== 'object') return undefined;
  let result: Record<string, unknown> | undefined;
  for (const key in value) {
    const child = childFor(tree, key);
    if (child === undefined) continue;
    const kept = pick((value as Record<string, unknown>)[key], child);
    if (kept === undefined) continue;
    result ??= {};
    result[key] = kept;
  }
  return result;
}
