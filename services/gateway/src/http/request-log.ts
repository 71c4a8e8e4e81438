import { LogController, type FastifyReply, type FastifyRequest } from "fastify";

/**
 * Per-request log lines at debug level instead of fastify's info: at benchmark rates two
 * info lines per request would dominate the log. What matters at info is already there:
 * a "job requested" line with the job id per accepted job, and each error answer
 * (logged by the problem handler).
 */
export class DebugRequestLog extends LogController {
  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, "incoming request");
  }

  override requestCompleted(error: Error | null | undefined, _request: FastifyRequest, reply: FastifyReply): void {
    reply.log.debug({ res: reply, responseTime: reply.elapsedTime, err: error ?? undefined }, "request completed");
  }
}
