import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { PROBLEM_CONTENT_TYPE } from "./plugins/problem.ts";

/**
 * Fastify's `clientErrorHandler`, for what Node's HTTP parser refuses before fastify sees
 * a request (a bad request line or header, a head over MAX_HEAD_BYTES, a Content-Length
 * that lies, both Content-Length and Transfer-Encoding...). Fastify's default answers those
 * with its own `application/json` body and destroys the socket without saying so: the
 * contract wants a problem, and a keep-alive client (node:http's Agent, undici) puts the
 * socket back in its pool and loses its *next* request to the reset. So: the same status
 * as fastify's default (400, 408, 431), as `application/problem+json`, with
 * `Connection: close`; then the socket ends after the answer is flushed.
 *
 * Wire it in buildApp's Fastify options: `clientErrorHandler: answerClientError`.
 */

/**
 * The most a request line and headers may hold (Node's `maxHeaderSize`; its default is 16
 * KiB). Above Node's default so that long URLs and headers reach fastify, which answers
 * them as any request (414 for a path parameter over its limit, HEAD without a body):
 * here, a head over the limit that came in several reads cannot tell its method (see
 * below).
 */
export const MAX_HEAD_BYTES = 128 * 1024;
export function answerClientError(err: Error & { code?: string; rawPacket?: unknown }, socket: Socket): void {
  // A reset connection has nobody left to answer (https://nodejs.org/api/http.html#event-clienterror).
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const status = err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : err.code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
  const title = STATUS_CODES[status] ?? "Bad Request";
  const detail =
    status === 431 ? `The request line and headers are over the ${MAX_HEAD_BYTES / 1024} KiB limit` : status === 408 ? "The request took too long to arrive" : "The request is not valid HTTP";
  const body = JSON.stringify({ type: "about:blank", title, status, detail });
  // An answer to HEAD has no body (a client would read it as garbage), and the parser has
  // no method to tell yet. The bytes it was reading start with the request line when the
  // request came in one read; a head over MAX_HEAD_BYTES comes in several, and the last
  // of them starts anywhere: such a request gets the problem, whatever its method (a HEAD
  // that large is the one case answered wrong; Node keeps the earlier reads to itself).
  const head = Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString("latin1") === "HEAD ";
  const sent = head ? "" : body;
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `Connection: close\r\n\r\n${sent}`,
    );
  }
  // Whatever the parser had not read yet is dropped with the socket once the answer is out.
  socket.destroySoon();
}
