/**
 * The annotated default configuration that `keepwire init` writes, generated
 * from the zod schemas (through their JSON Schema, input side) so it never
 * drifts from what the loader accepts: every section, every key with its
 * default, a comment per key with its type and bounds, and each optional key
 * without a default shown commented out.
 */
import { stringify } from 'yaml';
import { z } from 'zod';
import { configSchema } from './schema.ts';

interface Node {
  type?: string | string[];
  default?: unknown;
  const?: unknown;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxItems?: number;
  pattern?: string;
  properties?: Record<string, Node>;
  required?: string[];
  additionalProperties?: Node | boolean;
  propertyNames?: Node;
  oneOf?: Node[];
  anyOf?: Node[];
  items?: Node;
}

const SECTIONS: Record<string, string> = {
  dataDir:
    'Where state lives: admin token, address files, buffers, the store (--data-dir). Left out, it is /var/lib/keepwire when writable, else $XDG_STATE_HOME/keepwire (var/ in a checkout).',
  shutdownGraceMs:
    'At SIGTERM, how long requests in progress may take to finish before their connections are cut.',
  log: 'Logs: JSON lines on standard error.',
  admin:
    'The admin listener: /healthz, /metrics, the dashboard at /, the management API under /v1/.',
  watch: 'The TCP connection watcher inside keepwire serve.',
  agents: 'The agents listener: long-poll, server-sent events and results of the reference agents.',
  socket: 'The Unix socket for the management API and components (default DATA_DIR/keepwire.sock).',
  control: 'The command plane: store and dispatcher.',
  pipeline: 'The ship plane: sources and sinks by name, and routes from each source to its sinks.',
};

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** "integer, at least 100", "one of: a, b", ... from a JSON Schema node. */
export function describeNode(node: Node): string {
  if (node.enum) return `one of: ${node.enum.join(', ')}`;
  if (node.const !== undefined) return `always ${String(node.const)}`;
  const parts: string[] = [String(node.type ?? 'value')];
  if (node.exclusiveMinimum !== undefined) parts.push(`above ${node.exclusiveMinimum}`);
  if (node.minimum !== undefined) parts.push(`at least ${node.minimum}`);
  if (node.maximum !== undefined && node.maximum < MAX_SAFE) parts.push(`at most ${node.maximum}`);
  if (node.minLength !== undefined && node.minLength > 1)
    parts.push(`at least ${node.minLength} characters`);
  if (node.pattern !== undefined) parts.push(`matching ${node.pattern}`);
  if (node.type === 'array' && node.items) parts.push(`of ${describeNode(node.items)}`);
  return parts.join(', ');
}

function scalar(value: unknown): string {
  // Lists and maps in flow style (JSON is valid YAML); scalars quoted only when YAML needs it.
  return typeof value === 'object' && value !== null
    ? JSON.stringify(value)
    : stringify(value).trim();
}

function member(node: Node, value: unknown): Node {
  const members = node.oneOf ?? node.anyOf;
  if (!members) return node;
  const type = (value as { type?: unknown } | undefined)?.type;
  return (
    members.find((m) => m.properties?.type?.const === type) ??
    members.find((m) => m.type === 'object') ??
    members[0]!
  );
}

/** The `type` values of a tagged union (sources, sinks, buffers), if node is one. */
function kindsOf(node: Node): unknown[] {
  return (node.oneOf ?? node.anyOf ?? [])
    .map((m) => m.properties?.type?.const)
    .filter((k) => k !== undefined);
}

function render(node: Node, key: string, value: unknown, indent: string, out: string[]): void {
  const schema = member(node, value);
  const pad = `${indent}`;
  if (schema.properties) {
    out.push(`${pad}${key}:`);
    const kinds = kindsOf(node);
    if (kinds.length > 1) out.push(`${pad}  # type: one of ${kinds.join(', ')}`);
    const given = (value ?? {}) as Record<string, unknown>;
    for (const [name, child] of Object.entries(schema.properties)) {
      const childValue = given[name] ?? child.default;
      if (name === 'type' && kinds.length > 1) out.push(`${pad}  type: ${scalar(childValue)}`);
      else renderKey(child, name, childValue, `${indent}  `, out);
    }
    return;
  }
  if (typeof schema.additionalProperties === 'object') {
    // A map of names (sources, sinks, routes): the default entries, each in full.
    const entries = Object.entries((value ?? {}) as Record<string, unknown>);
    const kinds = kindsOf(schema.additionalProperties);
    out.push(`${pad}${key}:${entries.length === 0 ? ' {}' : ''}`);
    if (kinds.length) out.push(`${pad}  # each entry has a type: ${kinds.join(', ')}`);
    for (const [name, entryValue] of entries)
      renderKey(schema.additionalProperties, name, entryValue, `${indent}  `, out);
    return;
  }
  out.push(`${pad}${key}: ${scalar(value)}`);
}

function renderKey(node: Node, key: string, value: unknown, indent: string, out: string[]): void {
  if (value === undefined) {
    // No default in the schema: shown commented out (left out, the loader decides).
    const kind = node.properties
      ? `object with ${Object.keys(node.properties).join(', ')}`
      : describeNode(node);
    out.push(`${indent}# ${key}: (optional, no default) ${kind}`);
    return;
  }
  const schema = member(node, value);
  const members = node.oneOf ?? node.anyOf;
  if (!schema.properties && typeof schema.additionalProperties !== 'object')
    out.push(
      `${indent}# ${members && typeof value !== 'object' ? members.map(describeNode).join(', or ') : describeNode(schema)}`,
    );
  render(node, key, value, indent, out);
}

/** The YAML text of `keepwire init`: every section with its defaults, annotated. */
export function annotatedDefaults(): string {
  const root = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Node;
  const out = [
    '# Keepwire configuration: every section with its defaults (written by keepwire init).',
    '# Reference: docs/configuration.md. Any setting can also come from the environment,',
    '# e.g. KEEPWIRE_WATCH__INTERVAL_MS=1000 for watch.intervalMs.',
  ];
  for (const [name, node] of Object.entries(root.properties ?? {})) {
    out.push('');
    if (SECTIONS[name]) out.push(`# ${SECTIONS[name]}`);
    renderKey(node, name, node.default, '', out);
  }
  return `${out.join('\n')}\n`;
}
