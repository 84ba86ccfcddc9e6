import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clfToIso, ctimeToIso } from './timestamp.ts';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** `%c` as glibc writes it for a local Date. */
function ctime(d: Date): string {
  const day = String(d.getDate()).padStart(2, ' ');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `Mon ${MONTHS[d.getMonth()]} ${day} ${time} ${d.getFullYear()}`;
}

/** A local Date's wall-clock fields, as `new Date(...)` and Date.UTC take them. */
function wallClock(d: Date): [number, number, number, number, number, number] {
  return [d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
}

test('%c local stamps agree with the zone database across a year, DST changes included', () => {
  const previous = process.env.TZ;
  try {
    // New York shifts by an hour at 02:00; Lord Howe by half an hour, inside an hour.
    for (const zone of ['America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata']) {
      process.env.TZ = zone;
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 7 * 60_000 + 13_000) {
        const d = new Date(t);
        const text = ctime(d);
        // What the zone database makes of the wall-clock time: in the hour a
        // zone falls back, the stamp is ambiguous and names the earlier instant.
        const wall = new Date(...wallClock(d));
        assert.equal(ctimeToIso(text, 'local'), wall.toISOString(), `${zone} ${text}`);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
});

test('%c as UTC, and what is not a time stamp', () => {
  assert.equal(ctimeToIso('Tue Dec  1 05:09:26 2026', 'utc'), '2026-12-01T05:09:26.000Z');
  assert.equal(ctimeToIso('Tue Dec 1 05:09:26 2026', 'utc'), '2026-12-01T05:09:26.000Z');
  assert.equal(ctimeToIso('Tue Foo  1 05:09:26 2026', 'utc'), undefined);
  assert.equal(ctimeToIso('2026-12-01T05:09:26Z', 'utc'), undefined);
});

test('[dd/Mon/yyyy:HH:MM:SS(.frac) +hhmm] with its offset', () => {
  assert.equal(clfToIso('[23/Nov/2026:04:39:10 +0000]'), '2026-11-23T04:39:10.000Z');
  assert.equal(clfToIso('[01/Jan/2027:00:30:00 +0530]'), '2026-12-31T19:00:00.000Z');
  assert.equal(clfToIso('10/Oct/2026:08:02:11.123456 -0200'), '2026-10-10T10:02:11.123Z');
  assert.equal(clfToIso('[23/Nov/2026:04:39:10]'), undefined);
});

test('%c stamps of one minute (the same-minute shortcut) agree with the zone database', () => {
  const previous = process.env.TZ;
  const days = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  try {
    // Monrovia was 44 min 30 s behind UTC until 1972: no shortcut there.
    const cases: Array<[string, number]> = [
      ['UTC', Date.UTC(2026, 10, 23, 4, 39)],
      ['Asia/Kolkata', Date.UTC(2026, 10, 23, 4, 39)],
      ['Africa/Monrovia', Date.UTC(1971, 5, 1, 12, 0)],
      ['America/New_York', Date.UTC(2026, 2, 8, 6, 59)],
    ];
    for (const [zone, start] of cases) {
      process.env.TZ = zone;
      for (let t = start; t < start + 3 * 60_000; t += 1000) {
        const d = new Date(t);
        // Any day of the week: the parse does not read it.
        const text = ctime(d).replace('Mon', days[(t / 1000) % 7]!);
        const fields = wallClock(d);
        const wall = new Date(...fields).toISOString();
        assert.equal(ctimeToIso(text, 'local'), wall, `${zone} ${text}`);
        const asUtc = new Date(Date.UTC(...fields)).toISOString();
        assert.equal(ctimeToIso(text, 'utc'), asUtc, `${text} as UTC`);
      }
    }
  } finally {
    if (previous === undefined) delete process.env.TZ;
    else process.env.TZ = previous;
  }
  assert.equal(ctimeToIso('Tue Dec  1 05:09:26 2026', 'utc'), '2026-12-01T05:09:26.000Z');
  assert.equal(ctimeToIso('Tue Dec  1 05:09:27 2026', 'utc'), '2026-12-01T05:09:27.000Z');
  assert.equal(ctimeToIso('Tue Dec  1 05:09:60 2026', 'utc'), '2026-12-01T05:10:00.000Z');
  assert.equal(ctimeToIso('Tue Dec  1 05:09:2x 2026', 'utc'), undefined);
  assert.equal(ctimeToIso('tue Dec  1 05:09:28 2026', 'utc'), undefined);
  assert.equal(ctimeToIso('Tue Dec  1 05:09:29 2027', 'utc'), '2027-12-01T05:09:29.000Z');
});
