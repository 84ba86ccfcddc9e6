/**
 * The store contract for several nodes: two instances of one store (two
 * connections, as two nodes have) working at the same time. Run by each
 * store's test beside runStoreContract.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  body,
  enrol,
  holder,
  type StoreFactory,
  serviceOver,
  T0,
  withFixture,
} from './contract-support.ts';

export function runSharedStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract, two instances at once: ${name}`, () => {
    test('claims racing on one target never hand out a command twice, and miss none', () =>
      withFixture(factory, async (fixture) => {
        const [a, b] = [await fixture.open('node-a'), await fixture.open('node-b')];
        await enrol(a, 'x');
        const target = { type: 'agent', id: 'agent-x' } as const;
        const total = 300;
        await serviceOver(a, { now: T0 }).create(
          Array.from({ length: total }, () => body({ target })),
        );
        const seen: string[] = [];
        let round = 0;
        for (;;) {
          round += 1;
          const claims = await Promise.all(
            Array.from({ length: 8 }, (_, i) =>
              (i % 2 === 0 ? a : b).claim(target, holder(`r${round}-${i}`), 7, T0),
            ),
          );
          const got = claims.flat();
          if (got.length === 0) break;
          seen.push(...got.map((c) => c.id));
        }
        assert.equal(seen.length, total, 'every command claimed');
        assert.equal(new Set(seen).size, total, 'none claimed twice');
      }));

    test('the same client id created through both at once: stored once, both answered alike', () =>
      withFixture(factory, async (fixture) => {
        const [a, b] = [await fixture.open('node-a'), await fixture.open('node-b')];
        for (let i = 0; i < 20; i += 1) await enrol(a, `m${i}`, ['all']);
        const clock = { now: T0 };
        const [sa, sb] = [serviceOver(a, clock), serviceOver(b, clock)];
        for (let i = 0; i < 10; i += 1) {
          const request = body({ id: `race-${i}`, target: { type: 'group', id: 'all' } });
          const [ra, rb] = await Promise.all([sa.create([request]), sb.create([request])]);
          assert.deepEqual(
            ra.commands.map((c) => c.id),
            rb.commands.map((c) => c.id),
          );
          assert.equal(ra.created.length + rb.created.length, 20, 'inserted by exactly one');
        }
        assert.equal((await a.countByStatus()).get('pending'), 200);
      }));

    test('both sweeping expiry at once expire each command exactly once', () =>
      withFixture(factory, async (fixture) => {
        const [a, b] = [await fixture.open('node-a'), await fixture.open('node-b')];
        const target = { type: 'component', id: 'fw' } as const;
        await serviceOver(a, { now: T0 }).create(
          Array.from({ length: 200 }, () => body({ target, timeoutS: 5 })),
        );
        const sweeps = await Promise.all(
          Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).expire(T0 + 5_000)),
        );
        const expired = sweeps.flat().map((c) => c.id);
        assert.equal(expired.length, 200);
        assert.equal(new Set(expired).size, 200);
      }));

    test('a closed instance (a dead node) leaves claims that lapse and the other takes', () =>
      withFixture(factory, async (fixture) => {
        const [a, b] = [await fixture.open('node-a'), await fixture.open('node-b')];
        await enrol(a, 'x');
        const target = { type: 'agent', id: 'agent-x' } as const;
        await serviceOver(a, { now: T0 }).create([body({ target }), body({ target })]);
        const lost = await a.claim(target, holder('dead', T0 + 2_000, 'node-a'), 10, T0);
        assert.equal(lost.length, 2);
        await a.close();
        assert.deepEqual(await b.claim(target, holder('live', T0 + 9_000, 'node-b'), 10, T0), []);
        assert.deepEqual(await b.releaseLapsedClaims(T0 + 2_000), [target]);
        const taken = await b.claim(target, holder('live', T0 + 9_000, 'node-b'), 10, T0 + 2_000);
        assert.deepEqual(
          taken.map((c) => c.id),
          lost.map((c) => c.id),
        );
      }));
  });
}
