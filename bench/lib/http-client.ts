import { Agent, request } from "node:http";

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * A lean keep-alive HTTP/1.1 client for the bench's own requests (the submissions of the
 * end-to-end scenarios, the GETs of the steady state). node:http rather than fetch: it
 * costs the bench process less CPU per request, and that process shares the two cores
 * with the system it measures. The same client drives both systems.
 */
export class HttpClient {
  private readonly agent: Agent;
  private readonly url: URL;
  private readonly token: string;

  constructor(
    baseUrl: string,
    token: string,
    maxSockets = 64,
  ) {
    this.token = token;
    this.url = new URL(baseUrl);
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  request(method: "GET" | "POST", path: string, json?: unknown): Promise<HttpAnswer> {
    const payload = json === undefined ? undefined : JSON.stringify(json);
    const headers: Record<string, string | number> = { authorization: `Bearer ${this.token}` };
    if (payload !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = Buffer.byteLength(payload);
    }
    return new Promise((resolve, reject) => {
      const req = request({ host: this.url.hostname, port: this.url.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight. */
export async function runConcurrently(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}
