import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionFrom,
} from '../control/client/connection-options.ts';
import type { Agent } from '../control/store/store.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseOptions, writeJson } from './command.ts';

const HELP = `Usage: keepwire agents enroll --name NAME [--group GROUP]... [--json]
       keepwire agents list [--json]

Enrols agents and lists them, through the running server's management API.

  enroll   creates an agent and prints its id and token. The token is shown
           once (the server keeps only its hash): give it to the agent as
           "keepwire agent --token TOKEN".
  list     every enrolled agent, whether it is connected now (long-poll or
           SSE) and when it was last seen.

Options:
  --name NAME         the agent's unique name (letters, digits, . _ : @ -)
  --group GROUP       put the agent in a group (repeatable); commands to
                      group:GROUP go to every member
${CONNECTION_HELP}

Examples:
  keepwire agents enroll --name web-01 --group web --json
  keepwire agents list --data-dir /var/lib/keepwire
  keepwire agents list --server http://127.0.0.1:8680 --token "$(cat var/admin.token)"
`;

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'enrol agents (prints their token once) and list them',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      {
        ...CONNECTION_OPTIONS,
        name: { type: 'string' },
        group: { type: 'string', multiple: true },
      },
      'agents',
      true,
    );
    const [action] = positionals;
    if (action !== 'enroll' && action !== 'list') {
      throw new UsageError(
        'say "keepwire agents enroll --name NAME" or "keepwire agents list"; see --help',
      );
    }
    // Loaded here, not at the top: `--help` loads no HTTP client.
    const { ManagementClient } = await import('../control/client/management-client.ts');
    const client = new ManagementClient(connectionFrom(values, io.env));
    try {
      if (action === 'enroll') {
        if (values.name === undefined) throw new UsageError('agents enroll needs --name NAME');
        const agent = await client.call<Agent & { token: string }>('POST', '/v1/agents', {
          name: values.name,
          groups: values.group ?? [],
        });
        if (values.json) writeJson(io, agent);
        else
          io.stdout.write(
            `enrolled ${agent.name} as ${agent.id}\ntoken (shown once): ${agent.token}\n` +
              `run it: keepwire agent --server URL --token ${agent.token}\n`,
          );
        return 0;
      }
      const { agents } = await client.call<{ agents: (Agent & { connected: boolean })[] }>(
        'GET',
        '/v1/agents',
      );
      if (values.json) writeJson(io, { agents });
      else {
        io.stdout.write(
          `${'NAME'.padEnd(20)} ${'ID'.padEnd(36)} CONNECTED  LAST SEEN                 GROUPS\n`,
        );
        for (const a of agents) {
          io.stdout.write(
            `${a.name.padEnd(20)} ${a.id.padEnd(36)} ${(a.connected ? 'yes' : 'no').padEnd(10)} ${(a.lastSeenAt ?? '-').padEnd(25)} ${a.groups.join(',')}\n`,
          );
        }
      }
      return 0;
    } finally {
      await client.close();
    }
  },
};
