import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_HEAD_BYTES } from "../src/http/client-error.ts";
import { testApp } from "./helper.ts";

/**
 * What Node's HTTP parser refuses before fastify sees it (answerClientError), on a real
 * socket: the answer must be HTTP a client can read, whatever the method and however the
 * request arrived. The fuzz test found a HEAD with a long head, sent in several reads,
 * answered with a body; Node's 16 KiB default limit is raised (MAX_HEAD_BYTES) so that
 * such requests reach fastify, which knows their method.
 */
let close: () => Promise<void> = async () => undefined;
afterEach(() => close());

async function rawExchange(chunks: string[]): Promise<string> {
  const { app } = await testApp();
  await app.listen({ host: "127.0.0.1", port: 0 });
  close = () => app.close();
  const { port } = app.server.address() as { port: number };
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setEncoding("latin1");
    socket.on("data", (d) => (answer += d));
    socket.on("error", reject);
    socket.on("close", () => resolve(answer));
    socket.on("connect", async () => {
      // Separate writes reach the parser as separate reads: the request over the limit ends in another chunk than it began.
      for (const chunk of chunks) {
        socket.write(chunk);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
  });
}

const bodyOf = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);
const headerOf = (answer: string, name: string) => new RegExp(`^${name}: (.*)\r$`, "im").exec(answer)?.[1];
/** The text in reads of at most `size` characters, the way a client sends a long head. */
const inReads = (text: string, size: number) => Array.from({ length: Math.ceil(text.length / size) }, (_, i) => text.slice(i * size, (i + 1) * size));

describe("requests the HTTP parser refuses, and long ones it does not", () => {
  it("answers a HEAD with a 20 KB path, sent in several reads, as fastify does: a problem's headers and no body", async () => {
    const answer = await rawExchange(inReads(`HEAD /job/${"A".repeat(20_000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`, 8_000));
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
    expect(headerOf(answer, "Content-Type")).toMatch(/^application\/problem\+json/);
    expect(bodyOf(answer)).toBe("");
  });

  it("answers a GET over the head limit with a 431 problem, however it came", async () => {
    for (const reads of [1, 16]) {
      const text = `GET /job/${"A".repeat(MAX_HEAD_BYTES)} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const answer = await rawExchange(inReads(text, Math.ceil(text.length / reads)));
      expect(answer).toMatch(/^HTTP\/1\.1 431 /);
      expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 431, detail: expect.stringContaining("128 KiB") });
    }
  });

  it("answers bytes that are not HTTP with a 400 problem", async () => {
    const answer = await rawExchange(["GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"]);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 400, detail: "The request is not valid HTTP" });
  });
});
