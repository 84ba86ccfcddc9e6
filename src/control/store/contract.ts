/**
 * The contract every Store implementation passes: run it with a factory that
 * returns a fresh, empty store (see sqlite/sqlite-store.test.ts). The
 * PostgreSQL store will run the same suite.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import type { CreateCommand } from '../command.ts';
import { UuidV7Generator } from '../uuid-v7.ts';
import type { NewCommandRequest, Store } from './store.ts';

export type StoreFactory = () => Promise<Store>;

const T0 = 1_800_000_000_000;

function request(
  body: Partial<CreateCommand> & Pick<CreateCommand, 'target'>,
  timeoutS = 60,
): NewCommandRequest {
  const full: CreateCommand = {
    action: { name: 'ping', args: {}, version: '1' },
    source: 'test',
    ...body,
  };
  const fingerprint = createHash('sha256').update(JSON.stringify(full)).digest('hex');
  return { request: full, fingerprint, timeoutS };
}

async function withStore(
  factory: StoreFactory,
  work: (store: Store, ids: () => string) => Promise<void>,
) {
  const store = await factory();
  const generator = new UuidV7Generator(() => T0);
  try {
    await work(store, () => generator.next());
  } finally {
    await store.close();
  }
}

async function enrol(store: Store, name: string, groups: string[] = []) {
  return store.enrolAgent({ id: `agent-${name}`, name, tokenHash: `hash-${name}`, groups }, T0);
}

export function runStoreContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    test('agents: enrol, find by token hash, groups, unique names', () =>
      withStore(factory, async (store) => {
        const a = await enrol(store, 'a', ['web', 'db']);
        assert.deepEqual(a.groups, ['db', 'web']);
        assert.equal((await store.findAgentByTokenHash('hash-a'))?.id, 'agent-a');
        assert.equal(await store.findAgentByTokenHash('hash-x'), undefined);
        await assert.rejects(enrol(store, 'a'), { code: 'CTRL_AGENT_NAME_TAKEN' });
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

    test('create: unknown agent, empty group, idempotent ids and conflicts', () =>
      withStore(factory, async (store, ids) => {
        await enrol(store, 'a');
        await assert.rejects(
          store.createCommands([request({ target: { type: 'agent', id: 'nope' } })], T0, ids),
          { code: 'CTRL_AGENT_NOT_FOUND' },
        );
        await assert.rejects(
          store.createCommands([request({ target: { type: 'group', id: 'none' } })], T0, ids),
          { code: 'CTRL_GROUP_EMPTY' },
        );
        const body = request({ id: 'req-1', target: { type: 'agent', id: 'agent-a' } });
        const first = await store.createCommands([body], T0, ids);
        assert.equal(first.commands[0]!.id, 'req-1');
        assert.equal(first.created.length, 1);
        assert.equal(first.isReplay, false);
        const again = await store.createCommands([body], T0 + 10, ids);
        assert.equal(again.isReplay, true);
        assert.equal(again.created.length, 0);
        assert.deepEqual(again.commands, first.commands);
        const different = request({ id: 'req-1', target: { type: 'agent', id: 'agent-a' } }, 99);
        different.fingerprint = 'other';
        await assert.rejects(store.createCommands([different], T0, ids), {
          code: 'CTRL_COMMAND_CONFLICT',
        });
        // A failing request rolls back the whole batch.
        const batch = [request({ id: 'req-2', target: { type: 'component', id: 'c' } }), different];
        await assert.rejects(store.createCommands(batch, T0, ids), {
          code: 'CTRL_COMMAND_CONFLICT',
        });
        assert.equal(await store.getCommand('req-2'), undefined);
      }));

    test('create: a group expands to one command per member in one transaction (1,500 members)', () =>
      withStore(factory, async (store, ids) => {
        for (let i = 0; i < 1500; i += 1) await enrol(store, `m${i}`, ['all']);
        const outcome = await store.createCommands(
          [request({ id: 'fleet', target: { type: 'group', id: 'all' } })],
          T0,
          ids,
        );
        assert.equal(outcome.commands.length, 1500);
        assert.equal(new Set(outcome.commands.map((c) => c.target.id)).size, 1500);
        assert.ok(outcome.commands.every((c) => c.group === 'all' && c.requestId === 'fleet'));
        const replay = await store.createCommands(
          [request({ id: 'fleet', target: { type: 'group', id: 'all' } })],
          T0,
          ids,
        );
        assert.equal(replay.commands.length, 1500);
        assert.equal((await store.countByStatus()).get('pending'), 1500);
      }));

    test('claim: atomic per token; markSent and release act only under the claim', () =>
      withStore(factory, async (store, ids) => {
        await enrol(store, 'a');
        const target = { type: 'agent', id: 'agent-a' } as const;
        const reqs = Array.from({ length: 5 }, () => request({ target }));
        await store.createCommands(reqs, T0, ids);
        const one = await store.claim(target, 'w1', 3, T0);
        const two = await store.claim(target, 'w2', 3, T0);
        assert.equal(one.length, 3);
        assert.equal(two.length, 2);
        assert.equal(new Set([...one, ...two].map((c) => c.id)).size, 5);
        assert.deepEqual(await store.claim(target, 'w3', 3, T0), []);
        assert.equal(await store.markSent([one[0]!.id], 'w2', T0), 0, 'wrong token marks nothing');
        assert.equal(
          await store.markSent(
            one.map((c) => c.id),
            'w1',
            T0 + 7,
          ),
          3,
        );
        assert.equal((await store.getCommand(one[0]!.id))?.status, 'sent');
        assert.equal((await store.getCommand(one[0]!.id))?.sentAt, new Date(T0 + 7).toISOString());
        assert.equal(
          await store.release(
            two.map((c) => c.id),
            'w2',
          ),
          2,
        );
        assert.equal((await store.claim(target, 'w4', 10, T0)).length, 2);
        assert.equal(await store.releaseAllClaims(), 2);
        assert.equal((await store.claim({ type: 'agent', id: 'other' }, 'w5', 10, T0)).length, 0);
      }));

    test('finish: only the target, pending or sent, idempotent by id', () =>
      withStore(factory, async (store, ids) => {
        await enrol(store, 'a');
        await enrol(store, 'b');
        const target = { type: 'agent', id: 'agent-a' } as const;
        const [command] = (await store.createCommands([request({ target })], T0, ids)).commands;
        const id = command!.id;
        await assert.rejects(
          store.finish(id, { type: 'agent', id: 'agent-b' }, 'success', {}, T0),
          {
            code: 'CTRL_COMMAND_NOT_FOUND',
          },
        );
        // A result may come before the sent mark: the agent had it already.
        await store.claim(target, 'w', 1, T0);
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
      withStore(factory, async (store, ids) => {
        const target = { type: 'component', id: 'fw' } as const;
        const created = await store.createCommands(
          [request({ target }, 10), request({ target }, 10), request({ target }, 100)],
          T0,
          ids,
        );
        const [a, b, c] = created.commands;
        assert.equal((await store.cancel(a!.id, T0 + 1)).status, 'cancelled');
        await assert.rejects(store.cancel(a!.id, T0 + 2), { code: 'CTRL_COMMAND_FINISHED' });
        await assert.rejects(store.cancel('missing', T0), { code: 'CTRL_COMMAND_NOT_FOUND' });
        await store.claim(target, 'w', 10, T0);
        await store.markSent([b!.id], 'w', T0);
        assert.deepEqual(
          (await store.claim(target, 'x', 10, T0 + 10_000)).length,
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
      withStore(factory, async (store, ids) => {
        const fw = { type: 'component', id: 'fw' } as const;
        const reqs = Array.from({ length: 7 }, (_, i) =>
          request({ target: i < 5 ? fw : { type: 'component', id: 'other' } }),
        );
        reqs[0]!.request.action = { name: 'reload', args: {}, version: '1' };
        const { commands } = await store.createCommands(reqs, T0, ids);
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
