/**
 * Failed admin authentication is throttled, on a real `keepwire serve`: after
 * a run of wrong tokens from one address the next wrong one is answered after
 * a request with the right token sent just after it, and each is counted.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServe } from '../support/keepwire-process.ts';
import { metricValue } from '../support/raw-socket.ts';

test('wrong admin tokens are answered ever later; the right one is not held up', async () => {
  const server = await startServe();
  try {
    const wrong = () =>
      fetch(`${server.adminUrl}/v1/agents`, { headers: { authorization: 'Bearer kw_wrong' } });
    for (let i = 0; i < 6; i++) assert.equal((await wrong()).status, 401);
    const order: string[] = [];
    const delayed = wrong().then((response) => {
      order.push(`wrong ${response.status}`);
    });
    const right = fetch(`${server.adminUrl}/v1/agents`, {
      headers: { authorization: `Bearer ${server.adminToken}` },
    }).then((response) => {
      order.push(`right ${response.status}`);
    });
    await Promise.all([delayed, right]);
    assert.deepEqual(order, ['right 200', 'wrong 401']);
    const metrics = await (await fetch(`${server.adminUrl}/metrics`)).text();
    assert.equal(metricValue(metrics, 'keepwire_admin_auth_failures_total'), 7);
  } finally {
    assert.equal(await server.stop(), 0);
  }
});
