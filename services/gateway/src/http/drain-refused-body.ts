import type { FastifyInstance } from "fastify";

/** The largest refused body the gateway still reads to its end (and drops), so that its client hears the answer. */
export const DRAIN_LIMIT_BYTES = 16 * 1024 * 1024;

/**
 * A body over the limit is refused (413) before it is read, and fastify then asks for the
 * connection to close (`connection: close`): it cannot know how much more is coming.
 * Closing a socket with unread bytes makes the kernel reset it, and a client still
 * sending its body sees a broken pipe instead of the 413 already on its way. When the
 * request announced its length and that is at most DRAIN_LIMIT_BYTES, the gateway keeps
 * the connection instead: Node reads the rest of the body and drops it, the answer
 * arrives whole, and the connection serves the client's next request. A body without a
 * length, or a larger one, is still cut off.
 */
export function drainRefusedBodies(app: FastifyInstance): void {
  app.addHook("onSend", async (request, reply, payload) => {
    if (reply.statusCode !== 413 || reply.getHeader("connection") !== "close") return payload;
    const announced = Number(request.headers["content-length"]);
    if (Number.isSafeInteger(announced) && announced <= DRAIN_LIMIT_BYTES) reply.removeHeader("connection");
    return payload;
  });
}
