/**
 * The framing worker's per-chunk work, JS against WebAssembly, in one run
 * on the same input: split NDJSON chunks into lines, check each line (the
 * full JSON object check, or --shape-only's), lay the valid ones out as
 * disk-buffer frames. The JS path is what frame-thread.ts did before
 * (LineSplitter + isJsonObject / isObjectShaped + encodeFrames into memory
 * of its own); the wasm path is WasmFramer, which it does now. In-process,
 * one thread, no worker messaging: only the framing is timed.
 *
 *   node bench/framing.ts [--records 100000] [--chunk-bytes 1048576] [--runs 7]
 *
 * Records are bench/modsecurity-records.ts's (seed 1, ~1.7 KB each); the
 * two paths run alternately, each after a full GC (so neither pays for the
 * other's garbage), and each prints the median of its runs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { encodeFrames, frameBytes } from '../src/pipeline/buffer/disk/record-frame.ts';
import { WasmFramer } from '../src/pipeline/sources/framer/wasm-framer.ts';
import { isJsonObject } from '../src/pipeline/sources/json-object-check.ts';
import { LineSplitter } from '../src/pipeline/sources/line-splitter.ts';
import { isObjectShaped } from '../src/pipeline/sources/object-shape-check.ts';
import { median } from './median.ts';
import { writeRecords } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '100000' },
    'chunk-bytes': { type: 'string', default: String(1 << 20) },
    runs: { type: 'string', default: '7' },
  },
});
const records = Number(values.records);
const chunkBytes = Number(values['chunk-bytes']);
const runs = Number(values.runs);
const MAX_LINE_BYTES = 1024 * 1024;
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const dir = mkdtempSync(join(tmpdir(), 'kw-bench-framing-'));
await writeRecords(join(dir, 'records.ndjson'), records, 1);
const input = readFileSync(join(dir, 'records.ndjson'));
rmSync(dir, { recursive: true, force: true });
const chunks: Buffer[] = [];
for (let at = 0; at < input.length; at += chunkBytes)
  chunks.push(input.subarray(at, at + chunkBytes));

type Check = 'json' | 'shape';

/** Events framed and frame bytes, so the two paths can be seen to agree. */
interface Outcome {
  readonly events: number;
  readonly frameBytes: number;
}

function frameWithJs(check: Check): Outcome {
  const splitter = new LineSplitter(
    MAX_LINE_BYTES,
    () => {},
    check === 'shape' ? isObjectShaped : isJsonObject,
  );
  let events = 0;
  let bytes = 0;
  const frame = (lines: Buffer[]) => {
    const total = frameBytes(lines);
    bytes += encodeFrames(lines, total, Buffer.allocUnsafeSlow(total)).length;
    events += lines.length;
  };
  for (const chunk of chunks) frame(splitter.push(chunk));
  frame(splitter.end());
  return { events, frameBytes: bytes };
}

function frameWithWasm(check: Check): Outcome {
  const framer = new WasmFramer(MAX_LINE_BYTES, check);
  let events = 0;
  let bytes = 0;
  for (const chunk of chunks) {
    const framed = framer.push(chunk);
    events += framed.events;
    bytes += framed.frames.length;
  }
  const last = framer.end();
  return { events: events + last.events, frameBytes: bytes + last.frames.length };
}

const MB = 1e6;
console.log(
  `${records} records, ${(input.length / MB).toFixed(1)} MB, ${chunks.length} chunks of ${chunkBytes} bytes, median of ${runs} runs each`,
);
for (const check of ['json', 'shape'] as const) {
  const seconds = { js: [] as number[], wasm: [] as number[] };
  const outcomes: Record<string, Outcome> = {};
  frameWithJs(check); // warm-up: JIT, and the wasm instance's memory
  frameWithWasm(check);
  for (let run = 0; run < runs; run++) {
    for (const [path, frame] of [
      ['js', frameWithJs],
      ['wasm', frameWithWasm],
    ] as const) {
      collectGarbage();
      const started = process.hrtime.bigint();
      outcomes[path] = frame(check);
      seconds[path].push(Number(process.hrtime.bigint() - started) / 1e9);
    }
  }
  const js = median(seconds.js);
  const wasm = median(seconds.wasm);
  if (JSON.stringify(outcomes.js) !== JSON.stringify(outcomes.wasm))
    throw new Error(`the paths disagree: ${JSON.stringify(outcomes)}`);
  const line = (path: string, time: number) =>
    `  ${path.padEnd(5)} ${(time * 1000).toFixed(0).padStart(6)} ms  ${(input.length / MB / time).toFixed(0).padStart(6)} MB/s`;
  console.log(`check ${check}: ${outcomes.wasm!.events} events framed by each`);
  console.log(line('js', js));
  console.log(line('wasm', wasm));
  console.log(`  wasm is ${(js / wasm).toFixed(2)}x the JS path`);
}
