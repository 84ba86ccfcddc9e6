/**
 * The actions the reference agent runs. Built in: ping, sockets.snapshot,
 * sockets.diagnose and sysctl.audit (the watch plane's own functions). More
 * can be registered; an unknown action is answered with a failure.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  auditSysctl,
  diagnose,
  summarizeSnapshot,
  takeSnapshot,
  toTcpState,
} from '../../conntrack/index.ts';
import type { CommandResult } from '../command.ts';

export type ActionHandler = (
  args: Record<string, unknown>,
  signal: AbortSignal,
) => Promise<CommandResult>;

export function builtInActions(): Map<string, ActionHandler> {
  return new Map<string, ActionHandler>([
    [
      'ping',
      async (args, signal) => {
        if (typeof args.delayMs === 'number') await sleep(args.delayMs, undefined, { signal });
        return {
          code: 0,
          message: 'pong',
          data: { echo: args.echo ?? null, pid: process.pid, at: new Date().toISOString() },
        };
      },
    ],
    [
      'sockets.snapshot',
      async (args) => {
        const state = typeof args.state === 'string' ? toTcpState(args.state) : undefined;
        const snapshot = await takeSnapshot({
          attribute: args.attribute === true || args.by === 'process',
          ...(state ? { states: [state] } : {}),
        });
        const summary = summarizeSnapshot(snapshot, {
          ...(typeof args.by === 'string' ? { by: args.by as 'state' } : {}),
          ...(state ? { state } : {}),
          ...(typeof args.port === 'number' ? { port: args.port } : {}),
          ...(typeof args.top === 'number' ? { top: args.top } : {}),
        });
        return { code: 0, message: 'snapshot taken', data: summary };
      },
    ],
    [
      'sockets.diagnose',
      async (args) => {
        const diagnosis = await diagnose({
          ...(typeof args.samples === 'number' ? { samples: args.samples } : {}),
          ...(typeof args.intervalMs === 'number' ? { intervalMs: args.intervalMs } : {}),
          ...(typeof args.timeWaitMinCount === 'number'
            ? { timeWaitMinCount: args.timeWaitMinCount }
            : {}),
        });
        return { code: 0, message: 'diagnosis done', data: diagnosis };
      },
    ],
    [
      'sysctl.audit',
      async () => ({ code: 0, message: 'sysctl audit done', data: await auditSysctl() }),
    ],
  ]);
}
