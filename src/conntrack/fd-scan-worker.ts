/**
 * Worker entry: runs one part of an fd scan off the caller's thread and posts
 * the result. A full scan (scanSocketFds) starts at once; a targeted one
 * (findSocketHolders) waits for its targets, which the caller knows only once
 * the kernel's socket dump is in: the worker boots meanwhile.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { findSocketHolders, HolderSearch, scanSocketFds } from './fd-scan.ts';

const { procRoot, part, parts, targeted } = workerData as {
  procRoot?: string;
  part: number;
  parts: number;
  targeted: boolean;
};
if (targeted) {
  parentPort!.once(
    'message',
    ({ targets, buffer }: { targets: number[]; buffer: SharedArrayBuffer }) => {
      const search = new HolderSearch(targets, parts, buffer);
      parentPort!.postMessage(findSocketHolders(search, procRoot, part, parts));
    },
  );
} else {
  const scan = scanSocketFds(procRoot, part, parts);
  const entries = Float64Array.from(scan.entries);
  parentPort!.postMessage({ ...scan, entries }, [entries.buffer]);
}
