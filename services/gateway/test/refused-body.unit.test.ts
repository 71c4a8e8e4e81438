import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_BODY_LIMIT } from "../src/app.ts";
import { DRAIN_LIMIT_BYTES } from "../src/http/drain-refused-body.ts";
import { auth, testApp } from "./helper.ts";

/**
 * A client that sends its headers, waits for the answer, and only then sends its body:
 * the slowest client a 413 can meet, and the one a closed connection hurts (its writes
 * fail and it never gets to read what came after).
 */
const sockets: Socket[] = [];
afterEach(() => sockets.splice(0).forEach((s) => s.destroy()));

async function openSocket(port: number) {
  const socket = connect(port, "127.0.0.1");
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
  let received = "";
  const errors: Error[] = [];
  socket.on("data", (chunk) => (received += chunk.toString("latin1")));
  socket.on("error", (err) => errors.push(err));
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const until = async (pattern: RegExp) => {
    for (let i = 0; i < 500 && !pattern.test(received); i++) await new Promise((r) => setTimeout(r, 10));
    return received;
  };
  return { socket, errors, closed, until, received: () => received };
}

const headers = (length: number | "chunked") =>
  `POST /job HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth().authorization}\r\nContent-Type: application/json\r\n` +
  (length === "chunked" ? "Transfer-Encoding: chunked\r\n" : `Content-Length: ${length}\r\n`) +
  "\r\n";

describe("a body over the limit", () => {
  it("is answered 413 and read to its end: the connection then serves the next request", async () => {
    const { app } = await testApp();
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const c = await openSocket(Number(new URL(address).port));
    const length = DEFAULT_BODY_LIMIT + 200_000;
    c.socket.write(headers(length));
    expect(await c.until(/\r\n\r\n[\s\S]*"status":413/)).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.received()).not.toMatch(/connection: close/i);

    c.socket.write("x".repeat(length)); // the body the client was sending all along
    c.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    expect(await c.until(/HTTP\/1\.1 200 /)).toMatch(/HTTP\/1\.1 200 /);
    expect(c.errors).toEqual([]);
  });

  it("without a length, or past the drain limit, still closes the connection after its 413", async () => {
    const { app } = await testApp();
    const address = await app.listen({ port: 0, host: "127.0.0.1" });
    const port = Number(new URL(address).port);
    for (const framing of [DRAIN_LIMIT_BYTES + 1, "chunked" as const]) {
      const c = await openSocket(port);
      c.socket.write(headers(framing));
      if (framing === "chunked") c.socket.write(`${(DEFAULT_BODY_LIMIT + 1).toString(16)}\r\n${"x".repeat(DEFAULT_BODY_LIMIT + 1)}\r\n`);
      expect(await c.until(/"status":413/)).toMatch(/connection: close/i);
      await c.closed;
    }
  });
});
