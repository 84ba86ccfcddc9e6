/**
 * The ModSecurity decoder's cost per record, side by side in one run, one
 * thread, no I/O: each path turns records (strings) into the text a sink
 * writes, and writes it into a reused buffer (UTF-8), as a framer would.
 *
 * - `parse+stringify`: JSON.parse and JSON.stringify only, the floor any
 *   decoder that parses the record pays;
 * - `encode json`: encodeModsecurityEvent (what a framer calls) on the same
 *   JSON records; `decode json`: JSON.stringify(decodeModsecurity(...));
 * - `decode native`: on native records of the same requests (the real
 *   ModSecurity 3.0.9 captures in test/fixtures);
 * - with `--baseline REF`, `REF json` / `REF native`: the decoder as it was
 *   at that git commit (its `src` extracted to a temporary directory), so a
 *   change is compared with what it replaced in the same run.
 *
 *   node bench/modsecurity-decode.ts [--records 200000] [--runs 7] [--baseline REF]
 *
 * Rates are records per CPU-second of this process (process.cpuUsage), less
 * disturbed than wall time by other processes on a shared machine. Two
 * record sets: bench/modsecurity-records.ts's generated JSON records (seed
 * 1, ~1.6 KB), and the eight real captures in each format (~3.3 KB, they
 * carry the response body). The paths run alternately, each after a full
 * GC; medians of the runs.
 *
 * For instruction counts (no timer at all), `--only NAME` runs one path
 * once over `--records` records and exits; under valgrind, two record
 * counts give the instructions per record as their difference:
 *
 *   valgrind --tool=callgrind --smc-check=all node bench/modsecurity-decode.ts \
 *     --only 'encode json' --records 10000   # and 40000
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import {
  decodeModsecurity,
  encodeModsecurityEvent,
} from '../src/pipeline/codecs/modsecurity/index.ts';
import { jsonRecords, nativeRecords } from '../test/support/modsecurity-fixtures.ts';
import { median } from './median.ts';
import { makeRecord, mulberry32 } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '7' },
    baseline: { type: 'string' },
    only: { type: 'string' },
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
const encode: Path = (record) => encodeModsecurityEvent(record);
const baseline = values.baseline === undefined ? undefined : await loadBaseline(values.baseline);
const out = Buffer.alloc(1 << 20);

/** decodeModsecurity as it was at `ref`: that commit's src, extracted beside this run. */
async function loadBaseline(ref: string): Promise<Path> {
  const dir = mkdtempSync(join(tmpdir(), 'kw-bench-modsec-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  execSync(`git archive ${JSON.stringify(ref)} src | tar -x -C ${JSON.stringify(dir)}`);
  const old = await import(join(dir, 'src/pipeline/codecs/modsecurity/index.ts'));
  return (record) => JSON.stringify(old.decodeModsecurity(record));
}

/** Records per CPU-second of one path over `count` records cycled from `set`. */
function rate(path: Path, set: readonly string[]): number {
  gc();
  let bytes = 0;
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) bytes += out.write(path(set[i % set.length]!), 0);
  const used = process.cpuUsage(start);
  if (bytes === 0) throw new Error('nothing produced');
  return count / ((used.user + used.system) / 1e6);
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

const old = values.baseline ?? '';
const generatedCases: Array<[string, Path, readonly string[]]> = [
  ['parse+stringify', floor, generated],
  ...(baseline ? [[`${old} json`, baseline, generated] as [string, Path, string[]]] : []),
  ['decode json', decode, generated],
  ['encode json', encode, generated],
];
const realCases: Array<[string, Path, readonly string[]]> = [
  ['parse+stringify', floor, realJson],
  ...(baseline ? [[`${old} json`, baseline, realJson] as [string, Path, string[]]] : []),
  ['encode json', encode, realJson],
  ...(baseline ? [[`${old} native`, baseline, realNative] as [string, Path, string[]]] : []),
  ['encode native', encode, realNative],
];

if (values.only !== undefined) {
  const picked = generatedCases.find(([name]) => name === values.only);
  if (picked === undefined) throw new Error(`--only: one of ${generatedCases.map((c) => c[0])}`);
  let bytes = 0;
  for (let i = 0; i < count; i++) bytes += out.write(picked[1](generated[i % 1000]!), 0);
  console.log(`${values.only}: ${count} records, ${bytes} bytes`);
} else {
  compare('generated JSON records', generatedCases);
  compare('real 3.0.9 captures, the same requests in both formats', realCases);
}
