import { setTimeout as sleep } from 'node:timers/promises';
import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionFrom,
} from '../control/client/connection-options.ts';
import type { ManagementClient } from '../control/client/management-client.ts';
import type { Command as KwCommand } from '../control/command.ts';
import { FINAL_STATUSES } from '../control/command-status.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseInteger, parseOptions, writeJson } from './command.ts';

const HELP = `Usage: keepwire commands create --target agent:ID|group:NAME|component:NAME --action NAME
                                [--args JSON] [--timeout-s N] [--id ID] [--json]
       keepwire commands list [--status S] [--target T] [--action NAME] [--limit N] [--cursor C] [--json]
       keepwire commands get ID [--json]
       keepwire commands cancel ID [--json]
       keepwire commands watch ID [--json]

Creates and follows commands through the running server's management API.
A group target becomes one command per member agent. A command goes
pending -> sent -> success | failure, or expired (no result by its deadline)
or cancelled.

Options:
  --target T          agent:ID, group:NAME or component:NAME
  --action NAME       ping, sockets.snapshot, sockets.diagnose, sysctl.audit, or
                      an action your agents or components registered
  --args JSON         the action's arguments, a JSON object (default {})
  --timeout-s N       seconds until the command expires (default 300)
  --id ID             your own id: repeating the same create is harmless
  --status S          pending, sent, success, failure, expired or cancelled
  --limit N           page size for list (default 50); --cursor continues
${CONNECTION_HELP}

Examples:
  keepwire commands create --target agent:0192... --action ping --json
  keepwire commands create --target group:web --action sockets.diagnose \\
      --args '{"samples": 3}' --timeout-s 60 --id diag-2026-11-23
  keepwire commands list --status pending --target group:web
  keepwire commands watch 0192f3c4-...
  keepwire commands cancel 0192f3c4-...
`;

type Page = { commands: KwCommand[]; nextCursor: string | null };

export const commandsCommand: Command = {
  name: 'commands',
  summary: 'create, list, follow and cancel commands for agents, groups and components',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      {
        ...CONNECTION_OPTIONS,
        target: { type: 'string' },
        action: { type: 'string' },
        args: { type: 'string' },
        'timeout-s': { type: 'string' },
        id: { type: 'string' },
        status: { type: 'string' },
        limit: { type: 'string' },
        cursor: { type: 'string' },
      },
      'commands',
      true,
    );
    const [verb, id] = positionals;
    const needsId = verb === 'get' || verb === 'cancel' || verb === 'watch';
    if (!['create', 'list', 'get', 'cancel', 'watch'].includes(verb ?? '')) {
      throw new UsageError('say "keepwire commands create|list|get|cancel|watch"; see --help');
    }
    if (needsId && id === undefined) throw new UsageError(`commands ${verb} needs a command ID`);
    // Loaded here, not at the top: `--help` loads no HTTP client.
    const { ManagementClient } = await import('../control/client/management-client.ts');
    const client = new ManagementClient(connectionFrom(values, io.env));
    const print = (value: unknown, text: string) =>
      values.json ? writeJson(io, value) : io.stdout.write(text);
    try {
      if (verb === 'create') {
        const body = createBody(values);
        const result = await client.call<Page>('POST', '/v1/commands', body);
        print(
          result,
          result.commands
            .map((c) => `${c.id} ${c.status} ${c.target.type}:${c.target.id}\n`)
            .join(''),
        );
        return 0;
      }
      if (verb === 'list') {
        const query = new URLSearchParams();
        for (const key of ['status', 'target', 'action', 'cursor'] as const) {
          if (values[key] !== undefined) query.set(key, values[key]);
        }
        query.set(
          'limit',
          String(parseInteger(values.limit, 'limit', { min: 1, max: 1000 }) ?? 50),
        );
        const page = await client.call<Page>('GET', `/v1/commands?${query}`);
        print(
          page,
          page.commands.map(line).join('') +
            (page.nextCursor ? `more: --cursor ${page.nextCursor}\n` : ''),
        );
        return 0;
      }
      const path = `/v1/commands/${encodeURIComponent(id!)}`;
      if (verb === 'get') {
        const command = await client.call<KwCommand>('GET', path);
        print(command, `${JSON.stringify(command, null, 2)}\n`);
        return 0;
      }
      if (verb === 'cancel') {
        const command = await client.call<KwCommand>('POST', `${path}/cancel`);
        print(command, `${command.id} ${command.status}\n`);
        return 0;
      }
      return await watch(client, path, io, values.json === true);
    } finally {
      await client.close();
    }
  },
};

function createBody(values: Record<string, string | boolean | undefined>): Record<string, unknown> {
  if (typeof values.target !== 'string')
    throw new UsageError('commands create needs --target agent:ID|group:NAME|component:NAME');
  if (typeof values.action !== 'string')
    throw new UsageError('commands create needs --action NAME (e.g. ping)');
  const colon = values.target.indexOf(':');
  if (colon < 1)
    throw new UsageError(
      `--target must look like agent:ID, group:NAME or component:NAME, got "${values.target}"`,
    );
  let args: unknown = {};
  if (typeof values.args === 'string') {
    try {
      args = JSON.parse(values.args);
    } catch {
      throw new UsageError(
        `--args must be a JSON object such as '{"samples": 3}', got ${values.args}`,
      );
    }
  }
  const timeoutS = parseInteger(values['timeout-s'] as string | undefined, 'timeout-s', {
    min: 1,
    max: 2_592_000,
  });
  return {
    ...(typeof values.id === 'string' ? { id: values.id } : {}),
    target: { type: values.target.slice(0, colon), id: values.target.slice(colon + 1) },
    action: { name: values.action, args },
    ...(timeoutS === undefined ? {} : { timeoutS }),
    source: 'cli',
    user: process.env.USER ?? 'unknown',
  };
}

function line(c: KwCommand): string {
  return `${c.id}  ${c.status.padEnd(9)} ${`${c.target.type}:${c.target.id}`.padEnd(44)} ${c.action.name}  ${c.createdAt}\n`;
}

/** Follows one command until it ends; exit 0 on success, 1 otherwise. */
async function watch(
  client: ManagementClient,
  path: string,
  io: CliIo,
  json: boolean,
): Promise<number> {
  let last = '';
  for (;;) {
    const command = await client.call<KwCommand>('GET', path);
    if (command.status !== last) {
      last = command.status;
      if (json) writeJson(io, command);
      else io.stdout.write(`${new Date().toISOString()} ${command.id} ${command.status}\n`);
    }
    if (FINAL_STATUSES.has(command.status)) {
      if (!json && command.result) io.stdout.write(`${JSON.stringify(command.result, null, 2)}\n`);
      return command.status === 'success' ? 0 : 1;
    }
    await sleep(250);
  }
}
