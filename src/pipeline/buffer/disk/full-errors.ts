/** The refusals of a full disk buffer under `whenFull: block`. */
import { ShipAppendTooLargeError, ShipBufferFullError } from '../../errors.ts';

/** An append under `block` that no amount of waiting can fit. */
export function appendTooLarge(
  run: { readonly events: number; readonly bytes: number },
  dir: string,
  maxSizeBytes: number,
): ShipAppendTooLargeError {
  return new ShipAppendTooLargeError(
    `${run.events} events (${run.bytes} bytes framed) are more than disk buffer ${dir} can ever hold (maxSizeBytes ${maxSizeBytes}); split the request into smaller ones, or raise the buffer's maxSizeBytes`,
  );
}

/** A wait for room under `block` that ran out. */
export function bufferFull(
  dir: string,
  usedBytes: number,
  maxSizeBytes: number,
  retryAfterMs: number,
): ShipBufferFullError {
  return new ShipBufferFullError(
    `disk buffer ${dir} is full (${usedBytes} of ${maxSizeBytes} bytes) and no room came within ${retryAfterMs} ms; the sink is not keeping up`,
    retryAfterMs,
  );
}
