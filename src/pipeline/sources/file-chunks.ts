/**
 * Reads a file in chunks through two buffers used in turn, for `keepwire
 * ship`: no 1 MiB allocation per chunk (those drove most of a run's
 * mark-compact collections). A chunk is overwritten two chunks later, so the
 * consumer must be done with a chunk (and every view of it) by the time it
 * asks for the next-but-one: `readStreamInto` awaits each append before it
 * pulls the chunk after next, and the disk buffer copies records into its
 * frames before its append resolves.
 */
import { open } from 'node:fs/promises';

export async function* readFileChunks(path: string, chunkBytes = 1 << 20): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  const buffers = [Buffer.allocUnsafe(chunkBytes), Buffer.allocUnsafe(chunkBytes)];
  try {
    for (let turn = 0; ; turn ^= 1) {
      const buffer = buffers[turn]!;
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
