import { connect } from "node:net";
import type { FuzzResponse } from "./send.ts";

/**
 * Malformed HTTP that no HTTP client library would send (a Content-Length that lies,
 * both Content-Length and Transfer-Encoding, broken chunks, bad header lines, raw
 * non-ASCII bytes in the path...), written byte for byte on a TCP socket. Answers are
 * read until the server closes, or until it has said something and then nothing for
 * `idleMs` (a keep-alive connection stays open). `halfClose` ends the write side after
 * the bytes: a client that gives up mid-request.
 */
export interface RawOutcome {
  responses: FuzzResponse[];
  /** "silent": the connection stayed open and nothing came back within timeoutMs. */
  ended: "closed" | "idle" | "silent";
}

export function rawRequest(port: number, bytes: Buffer, opts: { halfClose: boolean; idleMs?: number; timeoutMs?: number }): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    let ended: RawOutcome["ended"] = "closed";
    let idle: NodeJS.Timeout | undefined;
    const stop = (why: RawOutcome["ended"]) => {
      ended = why;
      socket.destroy();
    };
    const deadline = setTimeout(() => stop(chunks.length === 0 ? "silent" : "idle"), opts.timeoutMs ?? 5_000);
    socket.on("data", (c: Buffer) => {
      chunks.push(c);
      clearTimeout(idle);
      idle = setTimeout(() => stop("idle"), opts.idleMs ?? 500);
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      // A reset after the server has answered and dropped the connection is how some refusals end.
      if (err.code !== "ECONNRESET" && err.code !== "EPIPE") reject(err);
    });
    socket.on("close", () => {
      clearTimeout(deadline);
      clearTimeout(idle);
      try {
        resolve({ responses: parseResponses(Buffer.concat(chunks)), ended });
      } catch (err) {
        reject(err);
      }
    });
    if (opts.halfClose) socket.end(bytes);
    else socket.write(bytes);
  });
}

/** Splits what the server sent into responses (Content-Length or chunked bodies; 1xx interim answers dropped). */
export function parseResponses(data: Buffer): FuzzResponse[] {
  const out: FuzzResponse[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf("\r\n\r\n", at);
    if (headEnd < 0) throw new Error(`incomplete response head: ${data.subarray(at).toString("latin1").slice(0, 200)}`);
    const [statusLine, ...lines] = data.subarray(at, headEnd).toString("latin1").split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1]);
    if (!Number.isInteger(status)) throw new Error(`not an HTTP status line: ${statusLine}`);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    at = headEnd + 4;
    let body: Buffer = Buffer.alloc(0);
    if (headers["transfer-encoding"]?.toLowerCase() === "chunked") {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf("\r\n", at);
        const size = parseInt(data.subarray(at, lineEnd).toString("latin1"), 16);
        at = lineEnd + 2;
        if (!(size > 0)) break;
        parts.push(data.subarray(at, at + size));
        at += size + 2;
      }
      at += 2;
      body = Buffer.concat(parts);
    } else if (headers["content-length"] !== undefined) {
      const length = Number(headers["content-length"]);
      body = data.subarray(at, at + length);
      at += length;
    }
    if (status >= 200) out.push({ status, headers, body });
  }
  return out;
}

/** The malformed requests: each with what it tests, and its bytes for a gateway whose valid token is `token`. */
export function malformedRequests(token: string, validBody: string): { name: string; bytes: Buffer; halfClose: boolean }[] {
  const auth = `Authorization: Bearer ${token}\r\n`;
  const json = "Content-Type: application/json\r\n";
  const len = Buffer.byteLength(validBody);
  const list: [string, string | Buffer][] = [
    ["Content-Length over the body", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: ${len + 50}\r\n\r\n${validBody}`],
    ["Content-Length under the body", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: ${len - 10}\r\n\r\n${validBody}`],
    ["Content-Length 0 with a body", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: 0\r\n\r\n${validBody}`],
    ["Content-Length negative", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: -1\r\n\r\n${validBody}`],
    ["Content-Length not a number", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: abc\r\n\r\n${validBody}`],
    ["two different Content-Lengths", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: ${len}\r\nContent-Length: 5\r\n\r\n${validBody}`],
    ["Content-Length and chunked", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: ${len}\r\nTransfer-Encoding: chunked\r\n\r\n${validBody}`],
    ["broken chunk size", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Transfer-Encoding: chunked\r\n\r\nzz\r\n${validBody}\r\n0\r\n\r\n`],
    ["chunked, valid", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Transfer-Encoding: chunked\r\n\r\n${len.toString(16)}\r\n${validBody}\r\n0\r\n\r\n`],
    ["header line without a colon", `GET /job-types HTTP/1.1\r\nHost: x\r\n${auth}NoColonHere\r\n\r\n`],
    ["space in a header name", `GET /job-types HTTP/1.1\r\nHost: x\r\n${auth}Bad Header: x\r\n\r\n`],
    ["NUL in a header value", `GET /job-types HTTP/1.1\r\nHost: x\r\n${auth}X-A: a\u0000b\r\n\r\n`],
    ["32 KiB of headers", `GET /job-types HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${"b".repeat(32_768)}\r\n\r\n`],
    ["raw UTF-8 in the path", Buffer.concat([Buffer.from("GET /job/"), Buffer.from("é✓", "utf8"), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)])],
    ["raw 0xFF in the path", Buffer.concat([Buffer.from("GET /job/"), Buffer.from([0xff, 0xfe]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)])],
    ["not HTTP at all", "HELLO\r\n\r\n"],
    ["HTTP/1.0 without Host", "GET /healthz HTTP/1.0\r\n\r\n"],
    ["HTTP/9.9", `GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n`],
    ["lower-case method", `get /healthz HTTP/1.1\r\nHost: x\r\n\r\n`],
    ["absolute-form target", `GET http://127.0.0.1/job/${"0".repeat(26)} HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ["bare LF line ends", `GET /job-types HTTP/1.1\nHost: x\n${auth.replace("\r\n", "\n")}\n`],
    ["Expect: 100-continue", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Expect: 100-continue\r\nContent-Length: ${len}\r\n\r\n${validBody}`],
    ["pipelined pair", `GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nPOST /job HTTP/1.1\r\nHost: x\r\n${auth}${json}Content-Length: ${len}\r\n\r\n${validBody}`],
    ["cut off in the headers", `POST /job HTTP/1.1\r\nHost: x\r\n${auth}Content-Ty`],
  ];
  // These two wait for bytes that never come: the client hangs up instead.
  const givesUp = new Set(["Content-Length over the body", "cut off in the headers"]);
  return list.map(([name, bytes]) => ({ name, bytes: typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes, halfClose: givesUp.has(name) }));
}
