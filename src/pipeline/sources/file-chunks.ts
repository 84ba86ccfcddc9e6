/**
 * Reads a file in chunks for `keepwire ship`. Each chunk is memory nobody
 * else holds (never a slice of Node's pool), from `allocate`, so it can be
 * transferred to the framing worker without a copy and come back to be read
 * into again.
 */
import { open } from 'node:fs/promises';

export async function* readFileChunks(
  path: string,
  chunkBytes = 1 << 20,
  allocate: (bytes: number) => Buffer = Buffer.allocUnsafeSlow,
): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    for (;;) {
      const buffer = allocate(chunkBytes);
      const { bytesRead } = await handle.read(buffer, 0, chunkBytes, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
