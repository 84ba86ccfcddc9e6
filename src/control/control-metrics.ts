/** The command plane's metrics, registered on the injected registry. */

import type { Registry } from '../telemetry/index.ts';
import { Counter, Gauge, Histogram } from '../telemetry/prom.ts';
import { COMMAND_STATUSES, type CommandStatus } from './command.ts';

export class ControlMetrics {
  readonly deliverySeconds: Histogram;
  readonly waiters: Gauge<'kind'>;
  readonly expired: Counter;
  readonly transitions: Counter<'status'>;
  readonly authFailures: Counter;
  readonly writeFailures: Counter;

  constructor(registry: Registry, countByStatus: () => Promise<Map<CommandStatus, number>>) {
    const registers = [registry];
    new Gauge({
      name: 'keepwire_commands',
      help: 'Commands in the store by status.',
      labelNames: ['status'],
      registers,
      async collect() {
        const counts = await countByStatus();
        for (const status of COMMAND_STATUSES) this.set({ status }, counts.get(status) ?? 0);
      },
    });
    this.transitions = new Counter({
      name: 'keepwire_command_transitions_total',
      help: 'Commands that entered each status in this process.',
      labelNames: ['status'],
      registers,
    });
    this.deliverySeconds = new Histogram({
      name: 'keepwire_command_delivery_seconds',
      help: 'From creation to the response carrying the command written to its waiter.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1, 5, 30, 300],
      registers,
    });
    this.waiters = new Gauge({
      name: 'keepwire_command_waiters',
      help: 'Long-polls and SSE streams waiting for commands.',
      labelNames: ['kind'],
      registers,
    });
    this.expired = new Counter({
      name: 'keepwire_command_expired_total',
      help: 'Commands that reached their deadline before a result.',
      registers,
    });
    this.authFailures = new Counter({
      name: 'keepwire_agent_auth_failures_total',
      help: 'Agent requests refused for a missing or wrong token.',
      registers,
    });
    this.writeFailures = new Counter({
      name: 'keepwire_command_write_failures_total',
      help: 'Responses carrying commands that could not be written; the commands went back to pending.',
      registers,
    });
  }
}
