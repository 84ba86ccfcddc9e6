/**
 * Reads a request body as a stream with a byte limit, gunzipping it when
 * `Content-Encoding: gzip`, so a compressed bomb is cut at the limit too.
 */
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UnsupportedEncodingError } from '../../../errors.ts';
import { ShipInputInvalidError, ShipInputTooLargeError } from '../../errors.ts';

export async function readBody(
  stream: Readable,
  encoding: string | undefined,
  limitBytes: number,
): Promise<Buffer> {
  const kind = (encoding ?? 'identity').trim().toLowerCase();
  if (kind !== 'identity' && kind !== 'gzip' && kind !== 'x-gzip') {
    throw new UnsupportedEncodingError(String(encoding), 'send gzip or no encoding');
  }
  const source: Readable = kind === 'identity' ? stream : stream.pipe(createGunzip());
  if (source !== stream) stream.on('error', (error) => source.destroy(error));
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of source) {
      total += (chunk as Buffer).length;
      if (total > limitBytes) {
        throw new ShipInputTooLargeError(
          `the request body is above the limit of ${limitBytes} bytes (bodyLimitBytes, after decompression); send smaller batches`,
        );
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (source !== stream) source.destroy();
    if (error instanceof ShipInputTooLargeError) throw error;
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code.startsWith('Z_') || /unexpected end of file|incorrect header/i.test(String(error))) {
      throw new ShipInputInvalidError(
        `the gzip body is damaged or truncated (${(error as Error).message}); send it again`,
      );
    }
    throw error;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}
