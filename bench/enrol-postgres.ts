/**
 * Enrols N agents, all in group "all", straight into a PostgreSQL store
 * (16 at a time) before any node starts, for bench/commands-cluster.ts.
 * Answers each agent's id and token, in order.
 */
import { generateToken, hashToken } from '../src/auth/token.ts';
import { storeSchema } from '../src/config/store.ts';
import { PostgresStore } from '../src/control/store/postgres/postgres-store.ts';
import { UuidV7Generator } from '../src/control/uuid-v7.ts';
import { phase } from './deadline.ts';

const PARALLEL = 16;

export async function enrolAgents(
  storeUrl: string,
  n: number,
  limitS: number,
): Promise<{ agentIds: string[]; tokens: string[] }> {
  const config = storeSchema.parse({ url: storeUrl, poolSize: PARALLEL });
  if (config.type !== 'postgres') throw new Error('expected the postgres store');
  const store = new PostgresStore({ config, nodeId: 'bench' });
  const ids = new UuidV7Generator();
  const agentIds: string[] = new Array(n);
  const tokens: string[] = new Array(n);
  let next = 0;
  await phase(
    'enrol the agents',
    limitS,
    async () => {
      await store.start(() => {});
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          for (let i = next++; i < n; i = next++) {
            const token = generateToken();
            const agent = await store.enrolAgent(
              { id: ids.next(), name: `bench-${i}`, tokenHash: hashToken(token), groups: ['all'] },
              Date.now(),
            );
            agentIds[i] = agent.id;
            tokens[i] = token;
          }
        }),
      );
      await store.close();
    },
    () => `${Math.min(next, n)} of ${n} started`,
  );
  return { agentIds, tokens };
}
