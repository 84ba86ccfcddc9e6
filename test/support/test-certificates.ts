/**
 * A private CA with a server certificate (for `serverName`, and 127.0.0.1)
 * and a client certificate (CN `keepwire`), made with openssl in `dir` for
 * TLS and mutual-TLS tests. Each run makes its own: nothing secret is kept.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TestCertificates {
  readonly caFile: string;
  readonly serverKeyFile: string;
  readonly serverCertFile: string;
  readonly clientKeyFile: string;
  readonly clientCertFile: string;
  read(file: string): Buffer;
}

export function makeTestCertificates(dir: string, serverName: string): TestCertificates {
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  const key = ['-newkey', 'rsa:2048', '-nodes'];
  openssl(
    'req',
    '-x509',
    ...key,
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  );
  writeFileSync(join(dir, 'san.cnf'), `subjectAltName=DNS:${serverName},IP:127.0.0.1\n`);
  const sign = (name: string, subject: string, extra: string[]) => {
    openssl('req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      ...extra,
    );
  };
  sign('server', `/CN=${serverName}`, ['-extfile', 'san.cnf']);
  sign('client', '/CN=keepwire', []);
  return {
    caFile: join(dir, 'ca.pem'),
    serverKeyFile: join(dir, 'server.key'),
    serverCertFile: join(dir, 'server.pem'),
    clientKeyFile: join(dir, 'client.key'),
    clientCertFile: join(dir, 'client.pem'),
    read: (file) => readFileSync(file),
  };
}
