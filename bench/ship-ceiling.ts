/**
 * The ceiling of `keepwire ship` on this machine: the CPU that the work any
 * relay of its design cannot skip costs per GB, measured piece by piece in
 * one run, and the throughput that CPU allows on every core of the machine
 * with perfect parallelism and nothing else (no JavaScript, no GC, no
 * batching, no promises). Compared with half the disk's sequential write
 * bandwidth, measured in the same run as bench/ship-vs-syslog-ng.ts does
 * (one 1 MiB buffer written over and over, fdatasync every 1000 ms).
 *
 * One pass per run over generated ModSecurity records, chunk by chunk as a
 * relay goes, on one thread, timing each piece's CPU:
 * - read the input (from the page cache, 1 MiB reads into one buffer);
 * - split, check (the full JSON check) and frame it with CRC32C: the
 *   framing worker's WasmFramer, the fastest implementation we have;
 * - append the frames to a file, fdatasync every 1000 ms (the disk buffer);
 * - POST the input's bytes to nginx (`return 204`) in 4 MiB bodies over one
 *   keep-alive socket: our CPU, and nginx's (the sink shares the cores in
 *   the benchmark), read from /proc.
 * Not counted, though a relay pays them: building request bodies from the
 * frames, reading back what was buffered, batching and all bookkeeping.
 *
 *   node bench/ship-ceiling.ts [--events 300000] [--runs 3]
 */
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { WasmFramer } from '../src/pipeline/sources/framer/wasm-framer.ts';
import { Nginx } from '../test/support/nginx.ts';
import { sameChunk, writeChunksMs } from './disk-write.ts';
import { median } from './median.ts';
import { writeRecords } from './modsecurity-records.ts';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300000' },
    runs: { type: 'string', default: '3' },
  },
});
const EVENTS = Number(values.events);
const RUNS = Number(values.runs);
const CHUNK = 1 << 20;
const BODY = 4 << 20;
const TICK_MS = 10; // USER_HZ is 100 on Linux

const work = mkdtempSync(join(tmpdir(), 'kw-bench-ceiling-'));
const input = join(work, 'audit.ndjson');

function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS; // utime, stime
}

/** One keep-alive connection to nginx; `post` sends one body and waits for its 204. */
async function connectNginx(
  port: number,
): Promise<{ post(body: Buffer): Promise<void>; close(): void }> {
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let wake = () => {};
  let pending = '';
  socket.on('data', (data) => {
    pending += data.toString('latin1');
    const end = pending.indexOf('\r\n\r\n');
    if (end < 0) return;
    if (!pending.startsWith('HTTP/1.1 204')) throw new Error(`nginx answered ${pending}`);
    pending = pending.slice(end + 4);
    wake();
  });
  return {
    post(body) {
      const answered = new Promise<void>((resolve) => (wake = resolve));
      socket.write(
        `POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${body.length}\r\n\r\n`,
      );
      socket.write(body);
      return answered;
    },
    close: () => socket.destroy(),
  };
}

/**
 * One pass over the input, chunk by chunk as a relay goes: read, frame,
 * append to a segment file (fdatasync every 1000 ms), and POST every 4 MiB
 * of input. Returns the CPU ms of each piece (this thread, user + system).
 */
async function relayOnce(
  port: number,
): Promise<Record<'read' | 'frame' | 'write' | 'send', number>> {
  const spent = { read: 0, frame: 0, write: 0, send: 0 };
  let mark = process.cpuUsage();
  const charge = (piece: keyof typeof spent) => {
    const used = process.cpuUsage(mark);
    spent[piece] += (used.user + used.system) / 1000;
    mark = process.cpuUsage();
  };
  const framer = new WasmFramer(1 << 20, 'json');
  const nginx = await connectNginx(port);
  const chunk = Buffer.allocUnsafeSlow(CHUNK);
  const body = Buffer.allocUnsafeSlow(BODY);
  let bodyBytes = 0;
  const inputFd = openSync(input, 'r');
  const segment = join(work, 'segment');
  const segmentFd = openSync(segment, 'w');
  let lastSync = performance.now();
  mark = process.cpuUsage();
  for (;;) {
    const read = readSync(inputFd, chunk, 0, CHUNK, null);
    charge('read');
    const framed = read > 0 ? framer.push(chunk.subarray(0, read)) : framer.end();
    charge('frame');
    writeSync(segmentFd, framed.frames);
    if (performance.now() - lastSync >= 1000 || read === 0) {
      fdatasyncSync(segmentFd);
      lastSync = performance.now();
    }
    charge('write');
    // The request bodies: the input's bytes, 4 MiB at a time.
    if (bodyBytes + read > BODY || (read === 0 && bodyBytes > 0)) {
      await nginx.post(body.subarray(0, bodyBytes));
      bodyBytes = 0;
    }
    chunk.copy(body, bodyBytes, 0, read);
    bodyBytes += read;
    charge('send');
    if (read === 0) break;
  }
  closeSync(inputFd);
  closeSync(segmentFd);
  rmSync(segment);
  nginx.close();
  return spent;
}

const inputBytes = await writeRecords(input, EVENTS);
const gb = inputBytes / 1e9;
readFileSync(input); // into the page cache
const nginx = await Nginx.start({ keepaliveRequests: 1_000_000 });
const samples = { read: [], frame: [], write: [], disk: [], send: [], nginx: [] } as Record<
  string,
  number[]
>;
try {
  // First, as bench/ship-vs-syslog-ng.ts does: the disk's rate, RUNS times.
  for (let run = 0; run < RUNS; run++)
    samples.disk!.push(writeChunksMs(join(work, 'raw'), sameChunk(inputBytes)));
  for (let run = 0; run < RUNS; run++) {
    const [worker] = nginx.workerPids();
    const nginxBefore = processCpuMs(worker!);
    const spent = await relayOnce(nginx.port);
    samples.nginx!.push(processCpuMs(worker!) - nginxBefore);
    for (const piece of ['read', 'frame', 'write', 'send'] as const)
      samples[piece]!.push(spent[piece]);
  }
} finally {
  await nginx.dispose();
  rmSync(work, { recursive: true, force: true });
}
const perGb = (name: string) => median(samples[name]!) / 1000 / gb; // core-seconds per GB
const pieces = ['read', 'frame', 'write', 'send', 'nginx'] as const;
const cores = availableParallelism();
const total = pieces.reduce((sum, name) => sum + perGb(name), 0);
const diskGbs = gb / (median(samples.disk!) / 1000);
console.log(
  `input: ${EVENTS} ModSecurity JSON records, ${(inputBytes / 1e6).toFixed(1)} MB; median of ${RUNS} runs; ${cores} cores`,
);
for (const name of pieces) console.log(`  ${name.padEnd(6)} ${perGb(name).toFixed(3)} core-s/GB`);
console.log(`  total  ${total.toFixed(3)} core-s/GB`);
console.log(
  `disk: ${samples.disk!.map((ms) => `${((gb / (ms / 1000)) * 1000).toFixed(0)} MB/s`).join(', ')}`,
);
console.log(
  `ceiling with all ${cores} cores and nothing else: ${((cores / total) * 1000).toFixed(0)} MB/s; ` +
    `half the disk's sequential write bandwidth: ${((diskGbs / 2) * 1000).toFixed(0)} MB/s ` +
    `(ratio ${(cores / total / (diskGbs / 2)).toFixed(2)})`,
);
