/**
 * One rule match as ModSecurity writes it in text (native section `H`,
 * ModSecurity 2's JSON `audit_data.messages`):
 *
 *   ModSecurity: Warning. detected SQLi using libinjection. [file "/x.conf"]
 *   [line "46"] [id "942100"] [msg "SQL Injection ..."] [data "..."]
 *   [severity "2"] [tag "attack-sqli"] [tag "OWASP_CRS"] [ref "v17,11"]
 *
 * The text before the first `[name "` is the action (`Warning.`, `Access
 * denied with code 403 (phase 2).`) and the match. A value ends at `"]`
 * followed by ` [` or the end of the line: values are written unescaped, so
 * a quote inside `data` stays part of it.
 */
import type { ModsecurityMessage } from './event.ts';

const FIELD_START = / \[[a-z_]+ "/;
/** The action ModSecurity puts before the match, which JSON records leave out. */
const ACTION =
  /^(?:Warning|Access denied[^.]*?(?:\(phase \d+\))?|Access allowed[^.]*?(?:\(phase \d+\))?|Intercepted[^.]*?|Redirecting[^.]*?|Pausing[^.]*?)\. /;

const NAMES: Record<string, keyof ModsecurityMessage> = {
  msg: 'message',
  id: 'rule_id',
  severity: 'severity',
  data: 'data',
  file: 'file',
  line: 'line',
  ref: 'reference',
  ver: 'ver',
  rev: 'rev',
  maturity: 'maturity',
  accuracy: 'accuracy',
};

export interface ParsedMessageLine {
  readonly message: ModsecurityMessage;
  /** `[hostname "..."]`, the host name the rule saw. */
  readonly hostname: string | undefined;
}

/** Parses one message line, its `ModSecurity: ` or `Message: ` prefix already removed. */
export function parseMessageLine(text: string): ParsedMessageLine {
  const message: ModsecurityMessage = {};
  let hostname: string | undefined;
  const first = FIELD_START.exec(text);
  const head = first === null ? text : text.slice(0, first.index);
  const match = head.replace(ACTION, '').trim();
  if (match !== '') message.match = match;
  let at = first === null ? -1 : first.index + 1;
  while (at !== -1 && at < text.length) {
    const quote = text.indexOf(' "', at);
    if (quote === -1) break;
    const name = text.slice(at + 1, quote);
    const valueStart = quote + 2;
    let end = text.indexOf('"] [', valueStart);
    let next = end === -1 ? -1 : end + 3;
    if (end === -1) {
      end = text.lastIndexOf('"]');
      if (end < valueStart) break;
    }
    const value = text.slice(valueStart, end);
    if (name === 'tag') {
      if (message.tags === undefined) message.tags = [value];
      else message.tags.push(value);
    } else if (name === 'hostname') hostname = value;
    else {
      const key = NAMES[name];
      if (key !== undefined && key !== 'tags') message[key] = value;
    }
    if (next !== -1 && text.charCodeAt(next) !== 0x5b) next = -1;
    at = next;
  }
  return { message, hostname };
}
