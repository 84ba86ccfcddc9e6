/**
 * The agents listener with mutual TLS: certificates made by openssl for the
 * test; an agent with a client certificate from the configured CA is served,
 * one without is refused during the handshake.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { startControl } from '../support/control-harness.ts';
import { makeDataDir } from '../support/keepwire-process.ts';

function makeCertificates(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/CN=kw-test-ca',
    '-days',
    '1',
  );
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const name of ['server', 'client']) {
    run('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      '-extfile',
      'san.ext',
    );
  }
  const read = (file: string) => readFileSync(join(dir, file));
  return { ca: read('ca.crt'), cert: read('client.crt'), key: read('client.key') };
}

test('agents listener: mutual TLS serves agents with a CA-signed client certificate only', async () => {
  const certs = makeDataDir('kw-tls-');
  const client = makeCertificates(certs);
  const h = await startControl({
    'agents.tls': {
      certFile: join(certs, 'server.crt'),
      keyFile: join(certs, 'server.key'),
      caFile: join(certs, 'ca.crt'),
      requestCert: true,
    },
  });
  const withCert = new Agent({ connect: { ca: client.ca, cert: client.cert, key: client.key } });
  const withoutCert = new Agent({ connect: { ca: client.ca } });
  try {
    const agent = await h.enrol('tls-agent');
    const url = `${h.agentsUrl.replace('http://', 'https://')}/v1/commands?waitS=0`;
    const headers = { authorization: `Bearer ${agent.token}` };
    const served = await request(url, { headers, dispatcher: withCert });
    await served.body.text();
    assert.equal(served.statusCode, 204);
    await assert.rejects(async () => {
      const refused = await request(url, { headers, dispatcher: withoutCert });
      await refused.body.text();
    });
  } finally {
    await withCert.close();
    await withoutCert.close();
    await h.stop();
  }
});
