/** Worker entry: runs scanSocketFds off the caller's thread and posts the result. */
import { parentPort, workerData } from 'node:worker_threads';
import { scanSocketFds } from './fd-scan.ts';

const { procRoot, part, parts } = workerData as { procRoot?: string; part: number; parts: number };
const scan = scanSocketFds(procRoot, part, parts);
const entries = Float64Array.from(scan.entries);
parentPort!.postMessage({ ...scan, entries }, [entries.buffer]);
