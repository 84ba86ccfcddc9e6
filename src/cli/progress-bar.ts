/**
 * The progress line of `keepwire ship` on a terminal: events read and
 * acknowledged, bytes, rate and, when the input size is known, a bar and an
 * ETA. Redrawn in place with a carriage return; never used when the stream
 * is not a TTY (scripts and logs get the final summary only).
 */
import type { ShipProgress } from '../pipeline/ship-once.ts';

export function formatProgress(progress: ShipProgress, now: number, width: number): string {
  const seconds = Math.max(0.001, (now - progress.startedAt) / 1000);
  const acked = progress.eventsRead - progress.pending();
  const rate = acked / seconds;
  const parts = [
    `${acked.toLocaleString('en')}/${progress.eventsRead.toLocaleString('en')} events acked`,
    formatBytes(progress.bytesRead),
    `${Math.round(rate).toLocaleString('en')} ev/s`,
  ];
  let bar = '';
  if (progress.totalBytes !== undefined && progress.totalBytes > 0) {
    const done = Math.min(1, progress.bytesRead / progress.totalBytes);
    const eta = done > 0 ? (seconds / done) * (1 - done) : undefined;
    const size = Math.max(10, Math.min(30, width - 80));
    const filled = Math.round(done * size);
    bar = `[${'#'.repeat(filled)}${'.'.repeat(size - filled)}] ${(done * 100).toFixed(0).padStart(3)}% `;
    if (eta !== undefined) parts.push(`ETA ${eta.toFixed(0)}s`);
  }
  return `${bar}${parts.join('  ')}`.slice(0, Math.max(20, width - 1));
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
