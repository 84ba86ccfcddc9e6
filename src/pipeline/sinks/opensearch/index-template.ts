/**
 * The index a document goes to, from a template with the document's own
 * date: `wazuh-alerts-4.x-%Y.%m.%d` -> `wazuh-alerts-4.x-2024.05.06`.
 * Tokens: `%Y` (4-digit year), `%m`, `%d`, `%H` (2 digits), `%%` (a `%`),
 * all in UTC. The template is compiled once; `render` is called once per
 * distinct hour a batch holds (the encoder caches its result), not per
 * document.
 */

/** Literal text, or a date token (its letter's index in TOKENS). */
type Part = string | number;

const TOKENS = 'YmdH';
const YEAR = 0;
const MONTH = 1;
const DAY = 2;
const HOUR = 3;
/** Characters OpenSearch and Elasticsearch refuse in an index name. */
const FORBIDDEN = /[\\/*?"<>| ,#:A-Z]/;

export class IndexTemplate {
  readonly #parts: readonly Part[];
  /** The template has no date token: every document goes to one index. */
  readonly isConstant: boolean;
  /** The template names the hour (`%H`). */
  readonly usesHour: boolean;

  constructor(template: string) {
    const problem = checkIndexTemplate(template);
    if (problem !== undefined) throw new TypeError(problem);
    this.#parts = compile(template);
    this.isConstant = this.#parts.every((part) => typeof part === 'string');
    this.usesHour = this.#parts.includes(HOUR);
  }

  render(year: number, month: number, day: number, hour: number): string {
    let name = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') name += part;
      else if (part === YEAR) name += String(year).padStart(4, '0');
      else if (part === MONTH) name += pad2(month);
      else if (part === DAY) name += pad2(day);
      else name += pad2(hour);
    }
    return name;
  }
}

/** Why `template` cannot name an index, or undefined when it can (for the config schema). */
export function checkIndexTemplate(template: string): string | undefined {
  let parts: Part[];
  try {
    parts = compile(template);
  } catch (error) {
    return (error as Error).message;
  }
  // Check a rendered name: what reaches the cluster.
  let name = '';
  for (const part of parts) name += typeof part === 'string' ? part : part === YEAR ? '2024' : '01';
  if (name === '' || name === '.' || name === '..')
    return 'an index name cannot be empty, "." or ".."';
  if (/^[-_+]/.test(name)) return 'an index name cannot start with "-", "_" or "+"';
  const bad = FORBIDDEN.exec(name);
  if (bad) {
    return bad[0] >= 'A' && bad[0] <= 'Z'
      ? 'index names are lowercase'
      : `an index name cannot hold ${JSON.stringify(bad[0])}`;
  }
  if (Buffer.byteLength(name) > 255) return 'an index name is at most 255 bytes';
  return undefined;
}

function compile(template: string): Part[] {
  const parts: Part[] = [];
  let text = '';
  for (let at = 0; at < template.length; at += 1) {
    const char = template[at]!;
    if (char !== '%') {
      text += char;
      continue;
    }
    const token = template[at + 1];
    at += 1;
    if (token === '%') {
      text += '%';
      continue;
    }
    const index = token === undefined ? -1 : TOKENS.indexOf(token);
    if (index < 0) {
      throw new TypeError(
        `"%${token ?? ''}" is not a date token; use %Y, %m, %d, %H (UTC) or %% for "%"`,
      );
    }
    if (text !== '') parts.push(text);
    text = '';
    parts.push(index);
  }
  if (text !== '') parts.push(text);
  return parts;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : String(value);
}
