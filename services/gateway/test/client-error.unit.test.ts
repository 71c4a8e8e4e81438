import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { testApp } from "./helper.ts";

/**
 * What Node's HTTP parser refuses before fastify sees it (answerClientError), on a real
 * socket: the answer must be HTTP a client can read, whatever the method and however the
 * request arrived. The fuzz test found a HEAD over the header limit answered with a body.
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

const longPath = `/job/${"A".repeat(20_000)}`;
const split = (text: string) => [text.slice(0, 8_000), text.slice(8_000, 16_000), text.slice(16_000)];
const bodyOf = (answer: string) => answer.slice(answer.indexOf("\r\n\r\n") + 4);

describe("requests the HTTP parser refuses", () => {
  it("answers a HEAD over the header limit with 431 and no body, even when it came in several reads", async () => {
    const answer = await rawExchange(split(`HEAD ${longPath} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(answer)).toBe("");
  });

  it("answers a GET over the header limit with 431 and a readable answer: a problem when its method could be seen, else an empty body", async () => {
    const whole = await rawExchange([`GET ${longPath} HTTP/1.1\r\nHost: x\r\n\r\n`]);
    expect(whole).toMatch(/^HTTP\/1\.1 431 /);
    const body = bodyOf(whole);
    if (body !== "") expect(JSON.parse(body)).toMatchObject({ status: 431 });
    const pieces = await rawExchange(split(`GET ${longPath} HTTP/1.1\r\nHost: x\r\n\r\n`));
    expect(pieces).toMatch(/^HTTP\/1\.1 431 /);
    expect(pieces).toMatch(/Content-Length: (\d+)\r\n/);
    expect(bodyOf(pieces).length).toBe(Number(/Content-Length: (\d+)\r\n/.exec(pieces)![1]));
  });

  it("answers bytes that are not HTTP with a 400 problem", async () => {
    const answer = await rawExchange(["GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"]);
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(bodyOf(answer))).toMatchObject({ status: 400, detail: "The request is not valid HTTP" });
  });
});
