/**
 * The contract every Store implementation passes, run against each store
 * with a factory of fresh, empty databases (sqlite/sqlite-store.test.ts,
 * postgres/postgres-store.test.ts). Creation goes through the command
 * service, which holds creation's rules for every store;
 * contract-shared.ts adds the cases of two instances (two nodes) at once.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CommandService } from '../command-service.ts';
import {
  body,
  enrol,
  holder,
  type StoreFactory,
  serviceOver,
  T0,
  withFixture,
} from './contract-support.ts';
import type { Store } from './store.ts';

async function withStore(
  factory: StoreFactory,
  work: (store: Store, service: CommandService, clock: { now: number }) => Promise<void>,
) {
  await withFixture(factory, async (fixture) => {
    const store = await fixture.open();
    const clock = { now: T0 };
    await work(store, serviceOver(store, clock), clock);
  });
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    test('agents: enrol, find by token hash, groups, unique names', () =>
      withStore(factory, async (store) => {
        const a = await enrol(store, 'a', ['web', 'db']);
        assert.deepEqual(a.groups, ['db', 'web']);
        assert.equal((await store.findAgentByTokenHash('hash-a'))?.id, 'agent-a');
        assert.equal(await store.findAgentByTokenHash('hash-x'), undefined);
        const again = { id: 'agent-a2', name: 'a', tokenHash: 'hash-a2', groups: [] };
        await assert.rejects(store.enrolAgent(again, T0), { code: 'CTRL_AGENT_NAME_TAKEN' });
        await store.addMember('ops', 'agent-a', T0);
        assert.deepEqual(await store.listMembers('ops'), ['agent-a']);
        assert.equal(await store.removeMember('ops', 'agent-a'), true);
        assert.equal(await store.removeMember('ops', 'agent-a'), false);
        await assert.rejects(store.addMember('ops', 'nobody', T0), {
          code: 'CTRL_AGENT_NOT_FOUND',
        });
        await store.touchAgent('agent-a', T0 + 5);
        assert.equal((await store.getAgent('agent-a'))?.lastSeenAt, new Date(T0 + 5).toISOString());
      }));

    test('agents: touches arriving together each land; an agent touched twice keeps the later', () =>
      withStore(factory, async (store) => {
        const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
        for (const name of names) await enrol(store, name, []);
        // A burst, as when every agent polls again after a group command.
        await Promise.all([
          ...names.map((name, i) => store.touchAgent(`agent-${name}`, T0 + 100 + i)),
          store.touchAgent('agent-t1', T0 + 500),
        ]);
        for (const [i, name] of names.entries()) {
          const expected = name === 't1' ? T0 + 500 : T0 + 100 + i;
          assert.equal(
            (await store.getAgent(`agent-${name}`))?.lastSeenAt,
            new Date(expected).toISOString(),
            name,
          );
        }
      }));

    test('agents: revoke keeps the record, marked once; rotate replaces the hash of unrevoked ones', () =>
      withStore(factory, async (store) => {
        await enrol(store, 'a', ['web']);
        await enrol(store, 'b', ['web']);
        assert.equal((await store.getAgent('agent-a'))?.revokedAt, null);
        assert.equal((await store.getAgent('agent-a'))?.tokenExpiresAt, null);
        const rotated = await store.rotateAgentToken('agent-a', 'hash-a-new', T0 + 60_000);
        assert.equal(rotated?.id, 'agent-a');
        assert.equal(rotated?.tokenExpiresAt, new Date(T0 + 60_000).toISOString());
        assert.equal(await store.findAgentByTokenHash('hash-a'), undefined, 'old hash gone');
        assert.equal((await store.findAgentByTokenHash('hash-a-new'))?.id, 'agent-a');
        const revoked = await store.revokeAgent('agent-a', T0 + 7);
        assert.equal(revoked?.revokedAt, new Date(T0 + 7).toISOString());
        assert.deepEqual(revoked?.groups, ['web'], 'the record stays whole');
        assert.deepEqual(
          await store.listMembers('web'),
          ['agent-b'],
          'a group reaches no revoked agent',
        );
        assert.equal((await store.revokeAgent('agent-a', T0 + 9))?.revokedAt, revoked?.revokedAt);
        assert.equal(
          (await store.findAgentByTokenHash('hash-a-new'))?.revokedAt,
          revoked?.revokedAt,
          'a revoked token is found as revoked, so it can be answered as such',
        );
        assert.equal(await store.rotateAgentToken('agent-a', 'hash-a-3', null), undefined);
        assert.equal(await store.findAgentByTokenHash('hash-a-3'), undefined);
        assert.equal(await store.revokeAgent('nobody', T0), undefined);
        assert.equal(await store.rotateAgentToken('nobody', 'hash-n', null), undefined);
        const expiring = { id: 'agent-c', name: 'c', tokenHash: 'hash-c', groups: [] };
        await store.enrolAgent({ ...expiring, tokenExpiresAt: T0 + 5_000 }, T0);
        assert.equal(
          (await store.findAgentByTokenHash('hash-c'))?.tokenExpiresAt,
          new Date(T0 + 5_000).toISOString(),
        );
        assert.equal((await store.getAgent('agent-b'))?.revokedAt, null, 'others untouched');
        assert.equal((await store.listAgents()).length, 3);
      }));

    test('create: unknown agent, empty group, idempotent ids and conflicts', () =>
      withStore(factory, async (store, service) => {
        await enrol(store, 'a');
        await assert.rejects(service.create([body({ target: { type: 'agent', id: 'nope' } })]), {
          code: 'CTRL_AGENT_NOT_FOUND',
        });
        await assert.rejects(service.create([body({ target: { type: 'group', id: 'none' } })]), {
          code: 'CTRL_GROUP_EMPTY',
        });
        const request = body({ id: 'req-1', target: { type: 'agent', id: 'agent-a' } });
        const first = await service.create([request]);
        assert.equal(first.commands[0]!.id, 'req-1');
        assert.equal(first.created.length, 1);
        assert.equal(first.isReplay, false);
        const again = await service.create([request]);
        assert.equal(again.isReplay, true);
        assert.equal(again.created.length, 0);
        assert.deepEqual(again.commands, first.commands);
        assert.deepEqual((await store.findRequest('req-1'))?.commands, first.commands);
        const different = { ...request, timeoutS: 99 };
        await assert.rejects(service.create([different]), { code: 'CTRL_COMMAND_CONFLICT' });
        // A failing request rolls back the whole batch.
        const batch = [body({ id: 'req-2', target: { type: 'component', id: 'c' } }), different];
        await assert.rejects(service.create(batch), { code: 'CTRL_COMMAND_CONFLICT' });
        assert.equal(await store.getCommand('req-2'), undefined);
        // The store itself refuses a stored request id, by its unique constraint.
        const stored = first.commands[0]!;
        await assert.rejects(
          store.insertCommands(
            [{ requestId: 'req-1', fingerprint: 'x', commands: [{ ...stored, id: 'other' }] }],
            T0,
          ),
          { code: 'CTRL_COMMAND_CONFLICT' },
        );
        await assert.rejects(
          store.insertCommands([{ requestId: 'req-3', fingerprint: 'x', commands: [stored] }], T0),
          { code: 'CTRL_COMMAND_CONFLICT' },
        );
        assert.equal(await store.findRequest('req-3'), undefined);
      }));

    test('create: a group expands to one command per member in one transaction (1,500 members)', () =>
      withStore(factory, async (store, service) => {
        for (let i = 0; i < 1500; i += 1) await enrol(store, `m${i}`, ['all']);
        const request = body({ id: 'fleet', target: { type: 'group', id: 'all' } });
        const outcome = await service.create([request]);
        assert.equal(outcome.commands.length, 1500);
        assert.equal(new Set(outcome.commands.map((c) => c.target.id)).size, 1500);
        assert.ok(outcome.commands.every((c) => c.group === 'all' && c.requestId === 'fleet'));
        const replay = await service.create([request]);
        assert.equal(replay.isReplay, true);
        assert.deepEqual(
          replay.commands.map((c) => c.id),
          outcome.commands.map((c) => c.id),
        );
        assert.equal((await store.countByStatus()).get('pending'), 1500);
      }));

    test('claim: atomic per token; markSent and release act only under the claim', () =>
      withStore(factory, async (store, service) => {
        await enrol(store, 'a');
        const target = { type: 'agent', id: 'agent-a' } as const;
        await service.create(Array.from({ length: 5 }, () => body({ target })));
        const one = await store.claim(target, holder('w1'), 3, T0);
        const two = await store.claim(target, holder('w2'), 3, T0);
        assert.equal(one.length, 3);
        assert.equal(two.length, 2);
        assert.equal(new Set([...one, ...two].map((c) => c.id)).size, 5);
        assert.deepEqual(await store.claim(target, holder('w3'), 3, T0), []);
        assert.equal(await store.markSent([one[0]!.id], 'w2', T0), 0, 'wrong token marks nothing');
        const oneIds = one.map((c) => c.id);
        assert.equal(await store.markSent(oneIds, 'w1', T0 + 7), 3);
        assert.equal((await store.getCommand(one[0]!.id))?.status, 'sent');
        assert.equal((await store.getCommand(one[0]!.id))?.sentAt, new Date(T0 + 7).toISOString());
        const twoIds = two.map((c) => c.id);
        assert.equal(await store.release(twoIds, 'w2'), 2);
        assert.deepEqual(await store.claimableTargets(T0), [target]);
        assert.equal((await store.claim(target, holder('w4'), 10, T0)).length, 2);
        assert.deepEqual(await store.claimableTargets(T0), []);
        const other = { type: 'agent', id: 'other' } as const;
        assert.equal((await store.claim(other, holder('w5'), 10, T0)).length, 0);
      }));

    test('claim: a lease holds while renewed; a lapsed one makes the command claimable again', () =>
      withStore(factory, async (store, service) => {
        await enrol(store, 'a');
        const target = { type: 'agent', id: 'agent-a' } as const;
        await service.create([body({ target }), body({ target })]);
        const held = await store.claim(target, holder('w1', T0 + 1_000), 1, T0);
        const lapsing = await store.claim(target, holder('w2', T0 + 1_000), 1, T0);
        assert.equal(held.length + lapsing.length, 2);
        assert.equal(await store.renewLeases(['w1'], T0 + 5_000), 1);
        assert.equal(await store.renewLeases([], T0 + 5_000), 0);
        assert.deepEqual(await store.claim(target, holder('x', T0 + 9_000), 5, T0 + 999), []);
        // At T0 + 1,000 w2's lease has run out, w1's (renewed) has not.
        const taken = await store.claim(target, holder('w3', T0 + 9_000), 5, T0 + 1_000);
        assert.deepEqual(
          taken.map((c) => c.id),
          lapsing.map((c) => c.id),
        );
        assert.equal(await store.markSent([lapsing[0]!.id], 'w2', T0 + 1_001), 0, 'lost its claim');
        assert.deepEqual(await store.releaseLapsedClaims(T0 + 4_999), []);
        assert.deepEqual(await store.releaseLapsedClaims(T0 + 5_000), [target]);
        assert.equal(await store.markSent([held[0]!.id], 'w1', T0 + 5_001), 0);
        assert.deepEqual(await store.claimableTargets(T0 + 5_001), [target]);
        assert.equal(await store.markSent([lapsing[0]!.id], 'w3', T0 + 5_002), 1);
      }));

    test('finish: only the target, pending or sent, idempotent by id', () =>
      withStore(factory, async (store, service) => {
        await enrol(store, 'a');
        await enrol(store, 'b');
        const target = { type: 'agent', id: 'agent-a' } as const;
        const [command] = (await service.create([body({ target })])).commands;
        const id = command!.id;
        await assert.rejects(
          store.finish(id, { type: 'agent', id: 'agent-b' }, 'success', {}, T0),
          {
            code: 'CTRL_COMMAND_NOT_FOUND',
          },
        );
        // A result may come before the sent mark: the agent had it already.
        await store.claim(target, holder('w'), 1, T0);
        const done = await store.finish(
          id,
          target,
          'success',
          { code: 0, message: 'pong' },
          T0 + 3,
        );
        assert.equal(done.isNew, true);
        assert.equal(done.command.status, 'success');
        assert.deepEqual(done.command.result, { code: 0, message: 'pong' });
        assert.equal(
          await store.markSent([id], 'w', T0 + 4),
          0,
          'a finished command stays finished',
        );
        assert.equal((await store.finish(id, target, 'success', {}, T0 + 5)).isNew, false);
        await assert.rejects(store.finish(id, target, 'failure', {}, T0), {
          code: 'CTRL_COMMAND_FINISHED',
        });
        await assert.rejects(store.finish('missing', target, 'success', {}, T0), {
          code: 'CTRL_COMMAND_NOT_FOUND',
        });
      }));

    test('cancel and expire end open commands only', () =>
      withStore(factory, async (store, service) => {
        const target = { type: 'component', id: 'fw' } as const;
        const created = await service.create([
          body({ target, timeoutS: 10 }),
          body({ target, timeoutS: 10 }),
          body({ target, timeoutS: 100 }),
        ]);
        const [a, b, c] = created.commands;
        assert.equal((await store.cancel(a!.id, T0 + 1)).status, 'cancelled');
        await assert.rejects(store.cancel(a!.id, T0 + 2), { code: 'CTRL_COMMAND_FINISHED' });
        await assert.rejects(store.cancel('missing', T0), { code: 'CTRL_COMMAND_NOT_FOUND' });
        await store.claim(target, holder('w'), 10, T0);
        await store.markSent([b!.id], 'w', T0);
        assert.deepEqual(
          (await store.claim(target, holder('x'), 10, T0 + 10_000)).length,
          0,
          'past deadline: not claimable',
        );
        const expired = await store.expire(T0 + 10_000);
        assert.deepEqual(
          expired.map((x) => x.id),
          [b!.id],
        );
        assert.equal((await store.getCommand(b!.id))?.status, 'expired');
        assert.equal((await store.getCommand(c!.id))?.status, 'pending');
        assert.deepEqual(await store.expire(T0 + 10_000), []);
      }));

    test('list: filters and cursor pagination, newest first', () =>
      withStore(factory, async (store, service) => {
        const fw = { type: 'component', id: 'fw' } as const;
        const reqs = Array.from({ length: 7 }, (_, i) =>
          body({ target: i < 5 ? fw : { type: 'component', id: 'other' } }),
        );
        reqs[0]!.action = { name: 'reload', args: {}, version: '1' };
        const { commands } = await service.create(reqs);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.listCommands({
            targetType: 'component',
            targetId: 'fw',
            limit: 2,
            cursor,
          });
          seen.push(...page.commands.map((c) => c.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(
          seen,
          commands
            .slice(0, 5)
            .map((c) => c.id)
            .reverse(),
        );
        const reloads = await store.listCommands({ action: 'reload', limit: 10 });
        assert.deepEqual(
          reloads.commands.map((c) => c.id),
          [commands[0]!.id],
        );
        assert.equal(
          (await store.listCommands({ status: 'success', limit: 10 })).commands.length,
          0,
        );
        await assert.rejects(store.listCommands({ cursor: '!!', limit: 1 }), {
          code: 'BAD_REQUEST',
        });
      }));
  });
}
