/**
 * The agent API on the agents listener, behind each agent's bearer token:
 * long-poll, SSE and results. An agent sees and answers only its own
 * commands: anyone else's id is answered 404, exactly like a missing one.
 * Wrong tokens are answered 401 after a delay that grows per address; a
 * revoked token is answered 401 CTRL_AGENT_TOKEN_REVOKED at once, an expired
 * one CTRL_AGENT_TOKEN_EXPIRED; a wait open when its token expires ends then.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashToken, parseBearer } from '../../auth/token.ts';
import type { AgentsConfig } from '../../config/index.ts';
import { UnauthorizedError } from '../../errors.ts';
import type { AuthThrottle } from '../auth-throttle.ts';
import { type DeliveryTarget, resultBodySchema } from '../command.ts';
import type { CommandService } from '../command-service.ts';
import type { ControlMetrics } from '../control-metrics.ts';
import type { Delivery } from '../dispatch/delivery.ts';
import { LongPoll } from '../dispatch/long-poll.ts';
import { SseStream } from '../dispatch/sse-stream.ts';
import type { WaiterRegistry } from '../dispatch/waiter-registry.ts';
import { AgentTokenExpiredError, AgentTokenRevokedError } from '../errors.ts';
import type { Agent } from '../store/store.ts';
import { parseBody, parseWaitS } from './parse.ts';
import { endAtExpiry } from './token-expiry.ts';

export interface AgentRouteDeps {
  config: AgentsConfig;
  service: CommandService;
  registry: WaiterRegistry;
  delivery: Delivery;
  throttle: AuthThrottle;
  metrics: ControlMetrics;
  now: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    agent?: Agent;
    /** The registry's token-end mark, taken before the token was looked up. */
    tokenEndMark?: number;
    /** The hash of the token it authenticated with. */
    tokenHash?: string;
  }
}

/** last_seen_at is written at most this often per agent. */
const TOUCH_INTERVAL_MS = 10_000;

export function registerAgentRoutes(app: FastifyInstance, deps: AgentRouteDeps): void {
  const { config, service, throttle } = deps;
  const touchedAt = new Map<string, number>();

  app.addHook('onRequest', async (request) => {
    const token = parseBearer(request.headers.authorization);
    request.tokenEndMark = deps.registry.tokenEndMark();
    request.tokenHash = token === undefined ? undefined : hashToken(token);
    const agent =
      request.tokenHash === undefined
        ? undefined
        : await service.store.findAgentByTokenHash(request.tokenHash);
    const address = request.socket.remoteAddress ?? 'unknown';
    if (agent === undefined) {
      deps.metrics.authFailures.inc();
      const delayMs = throttle.fail(address);
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      throw new UnauthorizedError(
        'missing or invalid agent token; enrol with "keepwire agents enroll" and send Authorization: Bearer TOKEN',
      );
    }
    if (agent.revokedAt !== null) {
      // Once valid, so not a guess: refused at once, with its own code so the agent stops.
      deps.metrics.authFailures.inc();
      throw new AgentTokenRevokedError();
    }
    if (agent.tokenExpiresAt !== null && Date.parse(agent.tokenExpiresAt) <= deps.now()) {
      deps.metrics.authFailures.inc();
      throw new AgentTokenExpiredError(agent.tokenExpiresAt);
    }
    throttle.succeed(address);
    request.agent = agent;
    const now = deps.now();
    if (now - (touchedAt.get(agent.id) ?? 0) >= TOUCH_INTERVAL_MS) {
      touchedAt.set(agent.id, now);
      await service.store.touchAgent(agent.id, now);
    }
  });

  const targetOf = (request: FastifyRequest): DeliveryTarget => ({
    type: 'agent',
    id: request.agent!.id,
  });

  app.get<{ Querystring: { waitS?: string } }>('/v1/commands', async (request, reply) => {
    const waitS = parseWaitS(request.query.waitS, config.defaultWaitS, config.maxWaitS);
    reply.hijack();
    const poll = new LongPoll(request.raw, reply.raw, targetOf(request), deps);
    poll.start(waitS);
    deps.registry.noteToken(poll, request.tokenHash!);
    deps.registry.endIfEndedSince(poll, request.tokenEndMark!);
    endAtExpiry(poll, reply.raw, deps.registry, request.agent!.tokenExpiresAt, deps.now);
  });

  app.get('/v1/commands/stream', async (request, reply) => {
    reply.hijack();
    const stream = new SseStream(request.raw, reply.raw, targetOf(request), deps);
    stream.start(config.heartbeatMs);
    deps.registry.noteToken(stream, request.tokenHash!);
    deps.registry.endIfEndedSince(stream, request.tokenEndMark!);
    endAtExpiry(stream, reply.raw, deps.registry, request.agent!.tokenExpiresAt, deps.now);
  });

  app.post<{ Params: { id: string } }>('/v1/commands/:id/result', async (request) => {
    const body = parseBody(resultBodySchema, request.body);
    return service.finish(request.params.id, targetOf(request), body.status, body.result);
  });
}
