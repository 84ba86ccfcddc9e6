/**
 * Ends an agent's wait when its token expires: a long-poll is answered 401
 * CTRL_AGENT_TOKEN_EXPIRED, a stream ends with ": closed (expired)". The
 * timer is re-armed in steps, since a timer cannot wait longer than about
 * 24.8 days, and goes with the response.
 */
import type { ServerResponse } from 'node:http';
import type { Waiter, WaiterRegistry } from '../dispatch/waiter-registry.ts';

/** The longest delay a Node.js timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

export function endAtExpiry(
  waiter: Waiter,
  res: ServerResponse,
  registry: WaiterRegistry,
  expiresAt: string | null,
  now: () => number,
): void {
  if (expiresAt === null) return;
  const at = Date.parse(expiresAt);
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = at - now();
    if (left > 0) {
      timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      return;
    }
    registry.remove(waiter);
    waiter.close('expired');
  };
  res.once('close', () => clearTimeout(timer));
  arm();
}
