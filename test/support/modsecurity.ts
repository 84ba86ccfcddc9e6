/**
 * A real ModSecurity for integration tests: Debian's nginx with
 * libnginx-mod-http-modsecurity (libmodsecurity3) and the OWASP CRS, in its
 * own prefix under a temporary folder, on a free loopback port (IPv4 and
 * IPv6), writing its audit log in one of ModSecurity's modes:
 *
 * - `json-serial`, `native-serial`: `SecAuditLogType Serial` to `auditLog`;
 * - `json-concurrent`, `native-concurrent`: `SecAuditLogType Concurrent`,
 *   the index in `auditLog`, one file per transaction under `storageDir`;
 * - `https`, `https-native`: `SecAuditLogType HTTPS`, one POST per entry to
 *   `auditUrl` (ModSecurity 3 posts JSON whatever the format says).
 *
 * `sendAttacks()` sends ATTACKS (SQL injection, XSS, path traversal, command
 * injection, a scanner; IPv4 and IPv6; HTTP/1.0 and 1.1) over raw sockets,
 * so the request line and headers are exactly what ATTACKS says. nginx runs
 * in the foreground and is stopped by its own pid, never by name.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { canConnect, freePort } from './nginx.ts';

export type ModsecurityMode =
  | 'json-serial'
  | 'native-serial'
  | 'json-concurrent'
  | 'native-concurrent'
  | 'https'
  | 'https-native';

const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';
const CRS_SETUP = '/etc/modsecurity/crs/crs-setup.conf';
const CRS_RULES = '/usr/share/modsecurity-crs/rules';

export interface Attack {
  readonly method: 'GET' | 'POST';
  /** The request target as sent. */
  readonly uri: string;
  readonly httpVersion: '1.0' | '1.1';
  readonly ipv6?: boolean;
  /** The Host header; the listener's address:port when absent. */
  readonly host?: string;
  readonly userAgent: string;
  readonly body?: string;
  /** The status nginx answers (CRS blocks at an anomaly score of 5). */
  readonly status: number;
  /** Rule ids the audit entry holds (at least these; CRS 3.3.4 as packaged by Debian 12). */
  readonly ruleIds: readonly string[];
}

const UA = 'keepwire-tests/1.0';

/** The fixed request set; every one is logged under `SecAuditEngine RelevantOnly`. */
export const ATTACKS: readonly Attack[] = [
  {
    method: 'GET',
    uri: '/products?id=1%27%20OR%201=1--',
    httpVersion: '1.1',
    userAgent: UA,
    status: 403,
    ruleIds: ['942100', '949110'],
  },
  {
    method: 'GET',
    uri: '/',
    httpVersion: '1.1',
    userAgent: 'sqlmap/1.7.2#stable (https://sqlmap.org)',
    status: 403,
    ruleIds: ['913100', '949110'],
  },
  {
    method: 'GET',
    uri: '/search?q=%3Cscript%3Ealert(1)%3C/script%3E',
    httpVersion: '1.1',
    userAgent: UA,
    status: 403,
    ruleIds: ['941100', '949110'],
  },
  {
    method: 'POST',
    uri: '/login',
    httpVersion: '1.1',
    userAgent: UA,
    body: "user=admin&pwd=' or 1=1--",
    status: 403,
    ruleIds: ['942100', '949110'],
  },
  {
    method: 'GET',
    uri: '/?id=1%20UNION%20SELECT%20password%20FROM%20users',
    httpVersion: '1.1',
    ipv6: true,
    userAgent: UA,
    status: 403,
    ruleIds: ['942100', '949110'],
  },
  {
    method: 'GET',
    uri: '/?cmd=;cat%20/etc/passwd',
    httpVersion: '1.0',
    userAgent: UA,
    status: 403,
    ruleIds: ['930120', '932160', '949110'],
  },
  {
    method: 'GET',
    uri: '/wp-login.php?redirect=../../../etc/passwd',
    httpVersion: '1.1',
    host: 'shop.example',
    userAgent: UA,
    status: 403,
    ruleIds: ['930100', '949110'],
  },
  {
    method: 'GET',
    uri: '/healthy',
    httpVersion: '1.1',
    userAgent: UA,
    status: 200,
    ruleIds: ['920350'],
  },
];

export interface ModsecurityOptions {
  readonly mode: ModsecurityMode;
  /** Where `https` modes post (`http://127.0.0.1:PORT/v1/modsecurity`). */
  readonly auditUrl?: string;
}

export class RealModsecurity {
  readonly mode: ModsecurityMode;
  readonly prefix: string;
  readonly port: number;
  /** The serial log, or the concurrent index. */
  readonly auditLog: string;
  /** Where concurrent mode writes one file per transaction. */
  readonly storageDir: string;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #stderr = '';

  private constructor(mode: ModsecurityMode, prefix: string, port: number) {
    this.mode = mode;
    this.prefix = prefix;
    this.port = port;
    this.auditLog = join(prefix, 'audit', mode.endsWith('concurrent') ? 'index.log' : 'audit.log');
    this.storageDir = join(prefix, 'audit', 'storage');
  }

  static async start(options: ModsecurityOptions): Promise<RealModsecurity> {
    if (options.mode.startsWith('https') && options.auditUrl === undefined)
      throw new Error(`mode ${options.mode} needs auditUrl`);
    for (const path of [MODULE, CRS_SETUP, CRS_RULES]) {
      if (!existsSync(path))
        throw new Error(
          `${path} is missing: apt-get install nginx libnginx-mod-http-modsecurity modsecurity-crs`,
        );
    }
    const prefix = mkdtempSync(join(tmpdir(), 'keepwire-modsec-'));
    const modsecurity = new RealModsecurity(options.mode, prefix, await freePort());
    for (const dir of ['logs', 'tmp', 'www', 'audit/storage'])
      mkdirSync(join(prefix, dir), { recursive: true });
    // nginx's workers run as nobody when the tests run as root: let them read
    // the site and write the audit log.
    chmodSync(prefix, 0o755);
    chmodSync(join(prefix, 'audit'), 0o777);
    chmodSync(modsecurity.storageDir, 0o777);
    writeFileSync(join(prefix, 'www', 'index.html'), 'ok\n');
    writeFileSync(join(prefix, 'rules.conf'), modsecurity.#rules(options.auditUrl));
    writeFileSync(join(prefix, 'nginx.conf'), modsecurity.#nginxConfig());
    await modsecurity.#spawn();
    return modsecurity;
  }

  #rules(auditUrl: string | undefined): string {
    const format = this.mode.includes('native') ? 'Native' : 'JSON';
    const type = this.mode.startsWith('https')
      ? 'HTTPS'
      : this.mode.endsWith('concurrent')
        ? 'Concurrent'
        : 'Serial';
    return [
      'SecRuleEngine On',
      'SecRequestBodyAccess On',
      'SecResponseBodyAccess Off',
      'SecAuditEngine RelevantOnly',
      'SecAuditLogRelevantStatus "^(?:5|4(?!04))"',
      'SecAuditLogParts ABIJDEFHZ',
      `SecAuditLogFormat ${format}`,
      `SecAuditLogType ${type}`,
      type === 'Concurrent' ? `SecAuditLogStorageDir ${this.storageDir}` : '',
      `SecAuditLog ${type === 'HTTPS' ? auditUrl : this.auditLog}`,
      `Include ${CRS_SETUP}`,
      `Include ${CRS_RULES}/*.conf`,
      '',
    ].join('\n');
  }

  #nginxConfig(): string {
    const p = this.prefix;
    return `load_module ${MODULE};
worker_processes 1;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${p}/tmp/body;
  proxy_temp_path ${p}/tmp/proxy;
  fastcgi_temp_path ${p}/tmp/fastcgi;
  uwsgi_temp_path ${p}/tmp/uwsgi;
  scgi_temp_path ${p}/tmp/scgi;
  server {
    listen 127.0.0.1:${this.port};
    listen [::1]:${this.port};
    modsecurity on;
    modsecurity_rules_file ${p}/rules.conf;
    location / { root ${p}/www; try_files $uri /index.html; }
  }
}
`;
  }

  async #spawn(): Promise<void> {
    const p = this.prefix;
    const child = spawn(
      'nginx',
      [
        '-p',
        `${p}/`,
        '-c',
        join(p, 'nginx.conf'),
        '-g',
        `daemon off; master_process on; pid ${p}/nginx.pid; error_log ${p}/logs/error.log notice;`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.#process = child;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // Loading the CRS takes a moment on a busy machine.
    const deadline = Date.now() + 30_000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        await this.stop();
        throw new Error(`nginx with ModSecurity did not start: ${this.#stderr}`);
      }
      await sleep(50);
    }
  }

  /** nginx's master pid. */
  get pid(): number {
    return this.#process!.pid!;
  }

  /** Sends every attack `repeat` times, one after another; resolves with the statuses nginx answered. */
  async sendAttacks(repeat = 1): Promise<number[]> {
    const statuses: number[] = [];
    for (let round = 0; round < repeat; round++)
      for (const attack of ATTACKS) statuses.push(await this.send(attack));
    return statuses;
  }

  /** Sends one request over a new connection, reads the answer to its end; resolves with the status. */
  send(attack: Attack): Promise<number> {
    const address = attack.ipv6 ? '::1' : '127.0.0.1';
    const host = attack.host ?? (attack.ipv6 ? `[::1]:${this.port}` : `127.0.0.1:${this.port}`);
    const body = attack.body ?? '';
    let head = `${attack.method} ${attack.uri} HTTP/${attack.httpVersion}\r\nHost: ${host}\r\nUser-Agent: ${attack.userAgent}\r\nAccept: */*\r\n`;
    if (attack.httpVersion === '1.1') head += 'Connection: close\r\n';
    if (attack.body !== undefined)
      head += `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    return new Promise((resolve, reject) => {
      const socket = connect({ host: address, port: this.port });
      const chunks: Buffer[] = [];
      socket.setTimeout(20_000, () => socket.destroy(new Error(`no answer to ${attack.uri}`)));
      socket.on('data', (chunk) => chunks.push(chunk));
      socket.on('error', reject);
      socket.on('end', () => {
        socket.end();
        const statusLine = Buffer.concat(chunks).toString('latin1').split('\r\n', 1)[0]!;
        resolve(Number(statusLine.split(' ')[1]));
      });
      socket.write(`${head}\r\n${body}`);
    });
  }

  /** Fast shutdown (SIGTERM) of the master; waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#process;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.prefix, { recursive: true, force: true });
  }
}
