/**
 * ModSecurity's two time stamp forms, to UTC ISO-8601:
 * - `%c` (ModSecurity 3's JSON `time_stamp`): `Mon Nov 30 10:11:12 2026`,
 *   with two spaces before a one-digit day, in the writer's local zone and
 *   with no offset, so the zone is an option (the host's by default).
 * - `[30/Nov/2026:10:11:12 +0000]` (native section `A`, ModSecurity 2's JSON
 *   `time`), optionally with a fraction of a second, with its offset.
 * A log holds many records per second: the last stamp and its result are
 * kept, so the common case is one string comparison; the local zone's
 * offset is looked up once per hour.
 */

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const CTIME = /^[A-Z][a-z]{2} ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
const CLF =
  /^\[?(\d{1,2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? ([+-])(\d{2}):?(\d{2})\]?$/;

let lastCtime = '';
let lastCtimeZone = '';
let lastCtimeIso: string | undefined;
/** The last stamp from its month up to its seconds (` Nov 23 04:39:`), its year (` 2026`), its ISO minute. */
let lastMinutePrefix = '';
let lastMinuteYear = '';
let lastMinuteIso = '';
let lastHour = NaN;
let lastHourOffsetMs = 0;
let lastClf = '';
let lastClfIso: string | undefined;

/** `%c` local time to ISO-8601 UTC; undefined when the text is not that form. */
export function ctimeToIso(text: string, zone: 'local' | 'utc'): string | undefined {
  if (text === lastCtime && zone === lastCtimeZone) return lastCtimeIso;
  const sameMinute = sameMinuteIso(text, zone);
  if (sameMinute !== undefined) return sameMinute;
  const m = CTIME.exec(text);
  let iso: string | undefined;
  const month = m ? MONTHS[m[1]!] : undefined;
  lastMinutePrefix = '';
  if (m && month !== undefined) {
    const parts = [Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const asUtc = Date.UTC(parts[0]!, month, parts[2], parts[3], parts[4], parts[5]);
    const offset = zone === 'utc' ? 0 : localOffsetMs(asUtc, parts);
    const ms = asUtc - offset;
    iso = Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
    // The rest of this minute maps second for second when the offset is whole minutes.
    if (iso !== undefined && offset % 60_000 === 0 && iso.slice(17, 19) === m[5]) {
      lastMinutePrefix = text.slice(3, text.length - 7);
      lastMinuteYear = text.slice(text.length - 5);
      lastMinuteIso = iso.slice(0, 17);
    }
  }
  lastCtime = text;
  lastCtimeZone = zone;
  lastCtimeIso = iso;
  return iso;
}

/**
 * A stamp in the same minute as the last one parsed (` Nov 23 04:39:` and
 * ` 2026` equal, two digits 00-59 between; the day of the week, which the
 * full parse does not read either, any `Xxx`): the last result with its
 * seconds replaced, without a regular expression or a Date. Undefined otherwise.
 */
function sameMinuteIso(text: string, zone: 'local' | 'utc'): string | undefined {
  const at = text.length - 7;
  if (lastMinutePrefix === '' || zone !== lastCtimeZone || at !== lastMinutePrefix.length + 3)
    return undefined;
  if (!isUpper(text.charCodeAt(0)) || !isLower(text.charCodeAt(1)) || !isLower(text.charCodeAt(2)))
    return undefined;
  const tens = text.charCodeAt(at) - 0x30;
  const ones = text.charCodeAt(at + 1) - 0x30;
  if (tens < 0 || tens > 5 || ones < 0 || ones > 9) return undefined;
  if (!text.startsWith(lastMinutePrefix, 3) || !text.endsWith(lastMinuteYear)) return undefined;
  return `${lastMinuteIso}${tens}${ones}.000Z`;
}

function isUpper(code: number): boolean {
  return code >= 0x41 && code <= 0x5a;
}

function isLower(code: number): boolean {
  return code >= 0x61 && code <= 0x7a;
}

/**
 * How far local time is ahead of UTC at this local time. The offset is
 * looked up (the slow part: a time zone database query) once per hour of
 * stamps, and kept for the hour when it is the same at its first and last
 * second; an hour in which the zone changes (Lord Howe's half-hour shift)
 * is looked up stamp by stamp.
 */
function localOffsetMs(
  asUtc: number,
  [year, month, day, hour, minute, second]: readonly number[],
): number {
  const hourStart = asUtc - (asUtc % 3_600_000);
  if (hourStart !== lastHour) {
    lastHour = hourStart;
    const first = hourStart - new Date(year!, month!, day!, hour!).getTime();
    const last = hourStart + 3_599_000 - new Date(year!, month!, day!, hour!, 59, 59).getTime();
    lastHourOffsetMs = first === last ? first : NaN;
  }
  if (!Number.isNaN(lastHourOffsetMs)) return lastHourOffsetMs;
  return asUtc - new Date(year!, month!, day!, hour!, minute!, second!).getTime();
}

/** `[dd/Mon/yyyy:HH:MM:SS(.frac) +hhmm]` to ISO-8601 UTC; undefined when not that form. */
export function clfToIso(text: string): string | undefined {
  if (text === lastClf) return lastClfIso;
  const m = CLF.exec(text);
  let iso: string | undefined;
  const month = m ? MONTHS[m[2]!] : undefined;
  if (m && month !== undefined) {
    const fraction = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
    const local = Date.UTC(
      Number(m[3]),
      month,
      Number(m[1]),
      Number(m[4]),
      Number(m[5]),
      Number(m[6]),
      fraction,
    );
    const offsetMinutes = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10]));
    const ms = local - offsetMinutes * 60_000;
    iso = Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  lastClf = text;
  lastClfIso = iso;
  return iso;
}
