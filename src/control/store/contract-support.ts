/**
 * What the store contract suites share: a fixture that opens store
 * instances on one empty database (several instances stand for several
 * nodes), and a command service over a store, since creation's rules
 * (fingerprints, replays, group expansion) live in the service.
 */

import { createRegistry } from '../../telemetry/index.ts';
import type { CreateCommand } from '../command.ts';
import { CommandService } from '../command-service.ts';
import { ControlMetrics } from '../control-metrics.ts';
import { InProcessNotifier } from '../notifier.ts';
import { UuidV7Generator } from '../uuid-v7.ts';
import type { Store } from './store.ts';

export interface StoreFixture {
  /** A started store on the fixture's database; each call is another instance (another node). */
  open(nodeId?: string): Promise<Store>;
  /** Closes every instance opened and removes the database. */
  dispose(): Promise<void>;
}

export type StoreFactory = () => Promise<StoreFixture>;

export const T0 = 1_800_000_000_000;

export function body(
  fields: Partial<CreateCommand> & Pick<CreateCommand, 'target'>,
): CreateCommand {
  return { action: { name: 'ping', args: {}, version: '1' }, source: 'test', ...fields };
}

export function serviceOver(store: Store, clock: { now: number }): CommandService {
  const now = () => clock.now;
  return new CommandService({
    store,
    notifier: new InProcessNotifier(),
    metrics: new ControlMetrics(createRegistry(), () => store.countByStatus()),
    ids: new UuidV7Generator(now),
    now,
    defaultTimeoutS: 60,
  });
}

export async function withFixture(
  factory: StoreFactory,
  work: (fixture: StoreFixture) => Promise<void>,
): Promise<void> {
  const fixture = await factory();
  try {
    await work(fixture);
  } finally {
    await fixture.dispose();
  }
}

export function holder(token: string, leaseUntil = T0 + 30_000, owner = 'node-a') {
  return { token, owner, leaseUntil };
}

export async function enrol(store: Store, name: string, groups: string[] = []) {
  return store.enrolAgent({ id: `agent-${name}`, name, tokenHash: `hash-${name}`, groups }, T0);
}
