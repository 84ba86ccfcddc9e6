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
        const wall = new Date(
          d.getFullYear(),
          d.getMonth(),
          d.getDate(),
          d.getHours(),
          d.getMinutes(),
          d.getSeconds(),
        );
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
