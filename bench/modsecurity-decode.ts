/**
 * The ModSecurity decoder's cost per record, side by side in one run, one
 * thread, no I/O: each path turns records (strings) into the bytes a sink
 * gets (`JSON.stringify` of the result).
 *
 * - `parse+stringify`: JSON.parse and JSON.stringify only, the floor any
 *   decoder that parses the record pays;
 * - `decode json`: decodeModsecurity on the same JSON records;
 * - `decode native`: decodeModsecurity on native records of the same
 *   requests (the real ModSecurity 3.0.9 captures in test/fixtures).
 *
 *   node bench/modsecurity-decode.ts [--records 200000] [--runs 7]
 *
 * Two record sets: bench/modsecurity-records.ts's generated JSON records
 * (seed 1, ~1.6 KB, a different second per record), and the eight real
 * captures in each format (~3.3 KB, they carry the response body). The
 * paths run alternately, each after a full GC; medians of the runs.
 */
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { decodeModsecurity } from '../src/pipeline/codecs/modsecurity/index.ts';
import { jsonRecords, nativeRecords } from '../test/support/modsecurity-fixtures.ts';
import { median } from './median.ts';
import { makeRecord, mulberry32 } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '7' },
  },
});
const count = Number(values.records);
const runs = Number(values.runs);
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const random = mulberry32(1);
const generated = Array.from({ length: 1000 }, (_, i) => String(makeRecord(i, random)));
const realJson = jsonRecords('real-3.0.9/json-serial.log');
const realNative = nativeRecords('real-3.0.9/native-serial.log');

type Path = (record: string) => string;
const floor: Path = (record) => JSON.stringify(JSON.parse(record));
const decode: Path = (record) => JSON.stringify(decodeModsecurity(record));

/** Records per second of one path over `count` records cycled from `set`. */
function rate(path: Path, set: readonly string[]): number {
  gc();
  let bytes = 0;
  const start = performance.now();
  for (let i = 0; i < count; i++) bytes += path(set[i % set.length]!).length;
  const seconds = (performance.now() - start) / 1000;
  if (bytes === 0) throw new Error('nothing produced');
  return count / seconds;
}

function compare(title: string, cases: Array<[string, Path, readonly string[]]>): void {
  const samples = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let run = 0; run < runs; run++)
    for (const [name, path, set] of cases) samples.get(name)!.push(rate(path, set));
  const [, , first] = cases[0]!;
  const size = Math.round(first.reduce((sum, r) => sum + r.length, 0) / first.length);
  console.log(`\n${title} (${count} records, ~${size} bytes, median of ${runs})`);
  const base = median(samples.get(cases[0]![0])!);
  for (const [name] of cases) {
    const value = median(samples.get(name)!);
    console.log(
      `  ${name.padEnd(16)} ${Math.round(value).toLocaleString('en').padStart(9)} records/s  ${(value / base).toFixed(2)}x`,
    );
  }
}

compare('generated JSON records', [
  ['parse+stringify', floor, generated],
  ['decode json', decode, generated],
]);
compare('real 3.0.9 captures, the same requests in both formats', [
  ['parse+stringify', floor, realJson],
  ['decode json', decode, realJson],
  ['decode native', decode, realNative],
]);
