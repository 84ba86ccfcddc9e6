/**
 * The full JSON object check (isJsonObject) with UTF-8 validation of strings
 * against the same check before it (git REV, default the commit before it
 * validated UTF-8), in one run on the same lines: ModSecurity records
 * (bench/modsecurity-records.ts, seed 1, mostly ASCII) and the same records
 * with multi-byte text (é, €, U+1F600) put into every string value. The two
 * run alternately, several rounds; each prints its median and the ratio.
 *
 *   node bench/json-check-utf8.ts [--records 20000] [--runs 9] [--before REV]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { isJsonObject } from '../src/pipeline/sources/json-object-check.ts';
import { median } from './median.ts';
import { writeRecords } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '9' },
    before: { type: 'string', default: '534fff74403c3a8782948c8b949a63105a09b121' },
  },
});
const dir = mkdtempSync(join(tmpdir(), 'kw-bench-utf8-'));
const oldFile = join(dir, 'json-object-check-before.ts');
writeFileSync(
  oldFile,
  execFileSync('git', ['show', `${values.before}:src/pipeline/sources/json-object-check.ts`]),
);
const before = (await import(oldFile)) as { isJsonObject: typeof isJsonObject };
await writeRecords(join(dir, 'records.ndjson'), Number(values.records), 1);
const ascii = readFileSync(join(dir, 'records.ndjson'), 'utf8').split('\n').filter(Boolean);
rmSync(dir, { recursive: true, force: true });
const multiByte = ascii.map((line) => line.replace(/":"/g, '":"é€😀 '));
const inputs = {
  ascii: ascii.map((line) => Buffer.from(line)),
  'multi-byte': multiByte.map((line) => Buffer.from(line)),
};

function time(check: typeof isJsonObject, lines: Buffer[]): number {
  const started = process.hrtime.bigint();
  for (const line of lines) if (!check(line)) throw new Error('a valid line was refused');
  return Number(process.hrtime.bigint() - started) / 1e6;
}

for (const [name, lines] of Object.entries(inputs)) {
  const bytes = lines.reduce((sum, line) => sum + line.length, 0);
  const samples = { before: [] as number[], after: [] as number[] };
  time(before.isJsonObject, lines);
  time(isJsonObject, lines);
  for (let run = 0; run < Number(values.runs); run++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    if (run % 2 === 0) samples.before.push(time(before.isJsonObject, lines));
    samples.after.push(time(isJsonObject, lines));
    if (run % 2 === 1) samples.before.push(time(before.isJsonObject, lines));
  }
  const [b, a] = [median(samples.before), median(samples.after)];
  const mbps = (ms: number) => ((bytes / 1e6) * 1000) / ms;
  console.log(`${name}: ${lines.length} lines, ${(bytes / 1e6).toFixed(1)} MB`);
  console.log(`  before (no UTF-8 check): ${b.toFixed(1)} ms, ${mbps(b).toFixed(0)} MB/s`);
  console.log(`  after  (UTF-8 checked):  ${a.toFixed(1)} ms, ${mbps(a).toFixed(0)} MB/s`);
  console.log(`  after / before time: ${(a / b).toFixed(2)}`);
}
