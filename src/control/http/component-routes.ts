/**
 * Component subscriptions on the Unix socket (trusted by file mode 0660):
 * a local component long-polls for commands targeted component:NAME and
 * posts results for them. Same bodies and answers as the agent API.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BadRequestError } from '../../errors.ts';
import { type DeliveryTarget, resultBodySchema } from '../command.ts';
import type { CommandService } from '../command-service.ts';
import type { Delivery } from '../dispatch/delivery.ts';
import { LongPoll } from '../dispatch/long-poll.ts';
import type { WaiterRegistry } from '../dispatch/waiter-registry.ts';
import { parseBody, parseWaitS } from './parse.ts';

const componentName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/);

export interface ComponentRouteDeps {
  service: CommandService;
  registry: WaiterRegistry;
  delivery: Delivery;
  defaultWaitS: number;
  maxWaitS: number;
}

function componentTarget(name: string): DeliveryTarget {
  if (!componentName.safeParse(name).success) {
    throw new BadRequestError(`component name "${name}": use letters, digits and . _ : @ -`);
  }
  return { type: 'component', id: name };
}

export function registerComponentRoutes(app: FastifyInstance, deps: ComponentRouteDeps): void {
  app.get<{ Params: { name: string }; Querystring: { waitS?: string } }>(
    '/v1/components/:name/commands',
    async (request, reply) => {
      const target = componentTarget(request.params.name);
      const waitS = parseWaitS(request.query.waitS, deps.defaultWaitS, deps.maxWaitS);
      reply.hijack();
      new LongPoll(request.raw, reply.raw, target, deps).start(waitS);
    },
  );

  app.post<{ Params: { name: string; id: string } }>(
    '/v1/components/:name/commands/:id/result',
    async (request) => {
      const body = parseBody(resultBodySchema, request.body);
      return deps.service.finish(
        request.params.id,
        componentTarget(request.params.name),
        body.status,
        body.result,
      );
    },
  );
}
