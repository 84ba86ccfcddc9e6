/**
 * The management API, mounted on the admin listener (behind the admin token)
 * and on the Unix socket (trusted by its file mode). See docs/api/commands.md.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BadRequestError, NotFoundError } from '../../errors.ts';
import {
  COMMAND_STATUSES,
  type CommandStatus,
  createBatchSchema,
  createCommandSchema,
} from '../command.ts';
import type { CommandService } from '../command-service.ts';
import { CommandNotFoundError } from '../errors.ts';
import { parseBody, parseLimit, parseTargetText } from './parse.ts';

const groupName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'use letters, digits and . _ : @ -');
/** A token's lifetime in seconds: one second to ten years. */
const ttlS = z
  .number()
  .int()
  .min(1)
  .max(10 * 366 * 86_400)
  .optional();
const enrolSchema = z.strictObject({
  name: groupName,
  groups: z.array(groupName).max(100).default([]),
  ttlS,
});
const rotateSchema = z.strictObject({ ttlS });

export interface ManagementDeps {
  service: CommandService;
  isConnected(agentId: string): boolean;
}

export function registerManagementRoutes(app: FastifyInstance, deps: ManagementDeps): void {
  const { service } = deps;

  app.post('/v1/agents', async (request, reply) => {
    const body = parseBody(enrolSchema, request.body);
    const { agent, token } = await service.enrol(body.name, body.groups, body.ttlS);
    return reply.code(201).send({ ...agent, token });
  });

  app.get('/v1/agents', async () => {
    const agents = await service.store.listAgents();
    return { agents: agents.map((agent) => ({ ...agent, connected: deps.isConnected(agent.id) })) };
  });

  app.post<{ Params: { id: string } }>('/v1/agents/:id/revoke', async (request) =>
    service.revoke(request.params.id),
  );

  app.post<{ Params: { id: string } }>('/v1/agents/:id/rotate', async (request) => {
    const body = parseBody(rotateSchema, request.body ?? {});
    const { agent, token } = await service.rotate(request.params.id, body.ttlS);
    return { ...agent, token };
  });

  app.get<{ Params: { name: string } }>('/v1/groups/:name/members', async (request) => ({
    members: await service.store.listMembers(request.params.name),
  }));

  app.put<{ Params: { name: string; agentId: string } }>(
    '/v1/groups/:name/members/:agentId',
    async (request, reply) => {
      const name = groupName.safeParse(request.params.name);
      if (!name.success) throw new BadRequestError(`group name: ${name.error.issues[0]!.message}`);
      await service.addMember(name.data, request.params.agentId);
      return reply.code(204).send();
    },
  );

  app.delete<{ Params: { name: string; agentId: string } }>(
    '/v1/groups/:name/members/:agentId',
    async (request, reply) => {
      const { name, agentId } = request.params;
      if (!(await service.store.removeMember(name, agentId))) {
        throw new NotFoundError(`agent "${agentId}" is not a member of group "${name}"`);
      }
      return reply.code(204).send();
    },
  );

  app.post('/v1/commands', async (request, reply) => {
    const isBatch =
      typeof request.body === 'object' && request.body !== null && 'commands' in request.body;
    const requests = isBatch
      ? parseBody(createBatchSchema, request.body).commands
      : [parseBody(createCommandSchema, request.body)];
    const outcome = await service.create(requests);
    return reply.code(outcome.isReplay ? 200 : 201).send({ commands: outcome.commands });
  });

  app.get<{ Querystring: Record<string, string | undefined> }>('/v1/commands', async (request) => {
    const query = request.query;
    if (
      query.status !== undefined &&
      !(COMMAND_STATUSES as readonly string[]).includes(query.status)
    ) {
      throw new BadRequestError(
        `query "status" must be one of ${COMMAND_STATUSES.join(', ')}, got "${query.status}"`,
      );
    }
    const target =
      query.target === undefined ? undefined : parseTargetText(query.target, 'query "target"');
    return service.list({
      status: query.status as CommandStatus | undefined,
      targetType: target?.type === 'group' ? undefined : target?.type,
      targetId: target?.type === 'group' ? undefined : target?.id,
      group: target?.type === 'group' ? target.id : undefined,
      action: query.action,
      cursor: query.cursor,
      limit: parseLimit(query.limit),
    });
  });

  app.get<{ Params: { id: string } }>('/v1/commands/:id', async (request) => {
    const command = await service.get(request.params.id);
    if (command === undefined) throw new CommandNotFoundError(request.params.id);
    return command;
  });

  app.post<{ Params: { id: string } }>('/v1/commands/:id/cancel', async (request) =>
    service.cancel(request.params.id),
  );
}
