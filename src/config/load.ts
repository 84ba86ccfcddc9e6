/**
 * Loads the configuration once: the YAML file (optional), then `KEEPWIRE_*`
 * environment overrides, then command-line overrides, validated by the strict
 * schema and deep-frozen. Later layers win. A data dir given nowhere is
 * defaultDataDir()'s.
 *
 * Environment names map to paths with `__` between levels and SNAKE_CASE
 * turned into camelCase: `KEEPWIRE_WATCH__INTERVAL_MS=1000` sets
 * `watch.intervalMs`; `KEEPWIRE_DATA_DIR=/srv/kw` sets `dataDir`. Values are
 * read as YAML scalars, so `1000` is a number and `true` a boolean.
 *
 * Only names that are settings count: those with `__` (a nested setting) and
 * those naming a top-level setting (`KEEPWIRE_DATA_DIR`). Every other
 * `KEEPWIRE_*` name belongs to the CLI (`KEEPWIRE_TOKEN`,
 * `KEEPWIRE_AGENT_TOKEN`, ...; the list is in docs/configuration.md) and is
 * left alone here, so it never makes `serve` refuse an unknown key.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { defaultDataDir } from './data-dir.ts';
import { ConfigInvalidError, ConfigReadError } from './errors.ts';
import { type Config, configSchema } from './schema.ts';

export interface LoadOptions {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Command-line overrides, as dotted paths (`admin.listen`). */
  overrides?: Record<string, unknown>;
}

type Tree = Record<string, unknown>;

const ENV_PREFIX = 'KEEPWIRE_';

export function loadConfig(options: LoadOptions = {}): Readonly<Config> {
  const tree: Tree = options.file ? readTree(options.file) : {};
  const env = options.env ?? process.env;
  for (const [name, value] of Object.entries(env)) {
    const path = settingPath(name);
    if (path !== undefined && value !== undefined) setPath(tree, path, parseScalar(value));
  }
  for (const [path, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(tree, path, value);
  }
  tree.dataDir ??= defaultDataDir({ env });
  const source = options.file ?? 'defaults and environment';
  const result = configSchema.safeParse(tree);
  if (!result.success) throw new ConfigInvalidError(describeIssues(result.error), source);
  return deepFreeze(result.data);
}

/** The setting an environment variable names, or undefined when it is not a setting's. */
export function settingPath(name: string): string | undefined {
  if (!name.startsWith(ENV_PREFIX)) return undefined;
  const levels = name.slice(ENV_PREFIX.length).split('__').map(camelCase);
  if (levels.length === 1 && !Object.hasOwn(configSchema.shape, levels[0]!)) return undefined;
  return levels.join('.');
}

function readTree(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigReadError(`cannot read configuration file ${file}: ${String(error)}`, error);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigReadError(`${file} is not valid YAML: ${(error as Error).message}`, error);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigReadError(`${file} must hold a YAML mapping at the top level`);
  }
  return parsed as Tree;
}

function camelCase(snake: string): string {
  return snake.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function parseScalar(text: string): unknown {
  try {
    const value: unknown = parseYaml(text);
    return value === null ? text : value;
  } catch {
    return text;
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const keys = path.split('.');
  let node = tree;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[keys[keys.length - 1]!] = value;
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const field = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length > 0 ? `${field}: ` : '';
      return `${where}unknown key(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against docs/configuration.md`;
    }
    return `${field}: ${issue.message}`;
  });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
