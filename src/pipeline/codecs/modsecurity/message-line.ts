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
    if (name === 'hostname') hostname = value;
    else store(message, name, value);
    if (next !== -1 && text.charCodeAt(next) !== 0x5b) next = -1;
    at = next;
  }
  return { message, hostname };
}

/**
 * One `[name "value"]` into the message, each key stored by name (not
 * through a lookup table and a computed key), so the stores stay
 * monomorphic on this hot path. Unknown names are left out.
 */
function store(message: ModsecurityMessage, name: string, value: string): void {
  switch (name) {
    case 'tag':
      if (message.tags === undefined) message.tags = [value];
      else message.tags.push(value);
      break;
    case 'msg':
      message.message = value;
      break;
    case 'id':
      message.rule_id = value;
      break;
    case 'severity':
      message.severity = value;
      break;
    case 'data':
      message.data = value;
      break;
    case 'file':
      message.file = value;
      break;
    case 'line':
      message.line = value;
      break;
    case 'ref':
      message.reference = value;
      break;
    case 'ver':
      message.ver = value;
      break;
    case 'rev':
      message.rev = value;
      break;
    case 'maturity':
      message.maturity = value;
      break;
    case 'accuracy':
      message.accuracy = value;
      break;
  }
}
