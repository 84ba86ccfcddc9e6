import {
  CONNECTION_HELP,
  CONNECTION_OPTIONS,
  connectionFrom,
} from '../control/client/connection-options.ts';
import type { Agent } from '../control/store/store.ts';
import { UsageError } from '../errors.ts';
import { type CliIo, type Command, parseOptions, writeJson } from './command.ts';

const HELP = `Usage: keepwire agents enroll --name NAME [--group GROUP]... [--ttl-s N] [--json]
       keepwire agents list [--json]
       keepwire agents revoke ID [--json]
       keepwire agents rotate ID [--ttl-s N] [--json]

Enrols agents, lists them, and revokes or rotates their tokens, through the
running server's management API.

  enroll   creates an agent and prints its id and token. The token is shown
           once (the server keeps only its hash): give it to the agent as
           "keepwire agent --token TOKEN".
  list     every enrolled agent, whether it is connected now (long-poll or
           SSE; "revoked" for a revoked one) and when it was last seen.
  revoke   ends the agent's token for good: its requests are refused (401
           CTRL_AGENT_TOKEN_REVOKED) and its open long-poll or SSE stream is
           ended at once, on every node. The record stays, marked revoked;
           enrol a new agent to replace it.
  rotate   gives the agent a new token, printed once; the old one is
           refused at once and its open waits end. Restart the agent with
           the new --token.

Options:
  --name NAME         the agent's unique name (letters, digits, . _ : @ -)
  --group GROUP       put the agent in a group (repeatable); commands to
                      group:GROUP go to every member
  --ttl-s N           the token (enroll, rotate) expires N seconds from now:
                      then its requests are refused (401
                      CTRL_AGENT_TOKEN_EXPIRED) and its open wait ends.
                      Without it the token does not expire.
${CONNECTION_HELP}

Examples:
  keepwire agents enroll --name web-01 --group web --json
  keepwire agents list --data-dir /var/lib/keepwire
  keepwire agents rotate 0193a5c2-7d1e-7f00-8a4b-1c2d3e4f5a6b --ttl-s 2592000 --json
  keepwire agents revoke 0193a5c2-7d1e-7f00-8a4b-1c2d3e4f5a6b
  keepwire agents list --server http://127.0.0.1:8680 --token "$(cat var/admin.token)"
`;

export const agentsCommand: Command = {
  name: 'agents',
  summary: 'enrol agents (prints their token once), list them, revoke or rotate their tokens',
  help: HELP,
  async run(args: string[], io: CliIo): Promise<number> {
    const { values, positionals } = parseOptions(
      args,
      {
        ...CONNECTION_OPTIONS,
        name: { type: 'string' },
        group: { type: 'string', multiple: true },
        'ttl-s': { type: 'string' },
      },
      'agents',
      true,
    );
    const [action, id] = positionals;
    if (action !== 'enroll' && action !== 'list' && action !== 'revoke' && action !== 'rotate') {
      throw new UsageError(
        'say "keepwire agents enroll --name NAME", "keepwire agents list", "keepwire agents revoke ID" or "keepwire agents rotate ID"; see --help',
      );
    }
    if ((action === 'revoke' || action === 'rotate') && id === undefined) {
      throw new UsageError(
        `agents ${action} needs the agent's id: keepwire agents ${action} ID (ids: keepwire agents list)`,
      );
    }
    const ttlS = parseTtl(values['ttl-s']);
    // Loaded here, not at the top: `--help` loads no HTTP client.
    const { ManagementClient } = await import('../control/client/management-client.ts');
    const client = new ManagementClient(connectionFrom(values, io.env));
    try {
      if (action === 'enroll') {
        if (values.name === undefined) throw new UsageError('agents enroll needs --name NAME');
        const agent = await client.call<Agent & { token: string }>('POST', '/v1/agents', {
          name: values.name,
          groups: values.group ?? [],
          ttlS,
        });
        if (values.json) writeJson(io, agent);
        else
          io.stdout.write(
            `enrolled ${agent.name} as ${agent.id}\ntoken (shown once): ${agent.token}\n` +
              expiryLine(agent) +
              `run it: keepwire agent --server URL --token ${agent.token}\n`,
          );
        return 0;
      }
      if (action === 'revoke' || action === 'rotate') {
        const path = `/v1/agents/${encodeURIComponent(id!)}/${action}`;
        const body = action === 'rotate' ? { ttlS } : {};
        const agent = await client.call<Agent & { token?: string }>('POST', path, body);
        if (values.json) writeJson(io, agent);
        else if (agent.token === undefined)
          io.stdout.write(`revoked ${agent.name} (${agent.id}) at ${agent.revokedAt}\n`);
        else
          io.stdout.write(
            `rotated the token of ${agent.name} (${agent.id}); the old one is refused now\n` +
              `new token (shown once): ${agent.token}\n` +
              expiryLine(agent) +
              `restart it: keepwire agent --server URL --token ${agent.token}\n`,
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
            `${a.name.padEnd(20)} ${a.id.padEnd(36)} ${(a.revokedAt !== null ? 'revoked' : a.connected ? 'yes' : 'no').padEnd(10)} ${(a.lastSeenAt ?? '-').padEnd(25)} ${a.groups.join(',')}\n`,
          );
        }
      }
      return 0;
    } finally {
      await client.close();
    }
  },
};

function parseTtl(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d{0,9}$/.test(text)) {
    throw new UsageError(`--ttl-s must be a whole number of seconds (1 or more), got "${text}"`);
  }
  return Number(text);
}

function expiryLine(agent: Agent): string {
  return agent.tokenExpiresAt === null ? '' : `token expires at ${agent.tokenExpiresAt}\n`;
}
