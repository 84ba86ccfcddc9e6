/**
 * An in-process `serve()` with every listener on port 0 (or a temp Unix
 * socket) for the command plane's tests, plus small HTTP helpers. Real
 * listeners and sockets; nothing mocked.
 */

import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.ts';
import { serve } from '../../src/main.ts';
import { createLogger } from '../../src/telemetry/index.ts';
import { makeDataDir } from './keepwire-process.ts';

export interface Reply {
  status: number;
  body: any;
}

export interface ControlHarness {
  dataDir: string;
  adminUrl: string;
  agentsUrl: string;
  socketPath: string;
  admin(method: string, path: string, body?: unknown, token?: string): Promise<Reply>;
  agent(token: string | undefined, method: string, path: string, body?: unknown): Promise<Reply>;
  unix(method: string, path: string, body?: unknown): Promise<Reply>;
  enrol(name: string, groups?: string[]): Promise<{ id: string; token: string }>;
  metric(line: string): Promise<number | undefined>;
  stop(): Promise<void>;
}

async function toReply(response: Response): Promise<Reply> {
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

function init(method: string, body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  };
}

/** One HTTP request over the Unix socket. */
export function unixRequest(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      { socketPath, method, path, headers: payload ? { 'content-type': 'application/json' } : {} },
      (res: IncomingMessage) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => {
          text += c;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: text === '' ? undefined : JSON.parse(text) }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

export async function startControl(
  overrides: Record<string, unknown> = {},
): Promise<ControlHarness> {
  const dataDir = makeDataDir('kw-control-');
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      'admin.listen': '127.0.0.1:0',
      'agents.listen': '127.0.0.1:0',
      'watch.enabled': false,
      'pipeline.enabled': false,
      ...overrides,
    },
  });
  const runtime = await serve(
    config,
    createLogger({ level: (process.env.KW_TEST_LOG as 'warn') ?? 'silent' }),
  );
  const adminUrl = `http://${readFileSync(join(dataDir, 'admin.addr'), 'utf8').trim()}`;
  const agentsUrl = `http://${readFileSync(join(dataDir, 'agents.addr'), 'utf8').trim()}`;
  const adminToken = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  const socketPath = config.socket.path ?? join(dataDir, 'keepwire.sock');
  const harness: ControlHarness = {
    dataDir,
    adminUrl,
    agentsUrl,
    socketPath,
    admin: async (method, path, body, token = adminToken) =>
      toReply(
        await fetch(adminUrl + path, init(method, body, { authorization: `Bearer ${token}` })),
      ),
    agent: async (token, method, path, body) =>
      toReply(
        await fetch(
          agentsUrl + path,
          init(method, body, token === undefined ? {} : { authorization: `Bearer ${token}` }),
        ),
      ),
    unix: (method, path, body) => unixRequest(socketPath, method, path, body),
    async enrol(name, groups = []) {
      const reply = await harness.admin('POST', '/v1/agents', { name, groups });
      if (reply.status !== 201) throw new Error(`enrol failed: ${JSON.stringify(reply.body)}`);
      return { id: reply.body.id, token: reply.body.token };
    },
    async metric(line) {
      const text = await (await fetch(`${adminUrl}/metrics`)).text();
      const found = text.split('\n').find((l) => l.startsWith(`${line} `));
      return found === undefined ? undefined : Number(found.slice(line.length + 1));
    },
    stop: () => runtime.lifecycle.shutdown('test'),
  };
  return harness;
}
