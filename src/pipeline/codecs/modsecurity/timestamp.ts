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
let lastHour = NaN;
let lastHourOffsetMs = 0;
let lastClf = '';
let lastClfIso: string | undefined;

/** `%c` local time to ISO-8601 UTC; undefined when the text is not that form. */
export function ctimeToIso(text: string, zone: 'local' | 'utc'): string | undefined {
  if (text === lastCtime && zone === lastCtimeZone) return lastCtimeIso;
  const m = CTIME.exec(text);
  let iso: string | undefined;
  const month = m ? MONTHS[m[1]!] : undefined;
  if (m && month !== undefined) {
    const parts = [Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])];
    const asUtc = Date.UTC(parts[0]!, month, parts[2], parts[3], parts[4], parts[5]);
    const ms = zone === 'utc' ? asUtc : asUtc - localOffsetMs(asUtc, parts);
    iso = Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
  }
  lastCtime = text;
  lastCtimeZone = zone;
  lastCtimeIso = iso;
  return iso;
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
