import { Agent, request } from "node:http";
import type { FuzzRequest } from "./requests.ts";

/** What came back: the status, the headers (lower-case names) and the raw body. */
export interface FuzzResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * Sends a fuzz request with node:http rather than fetch: fetch refuses bodies on GET and
 * HEAD, some methods and some header values, and always adds headers of its own. A
 * keep-alive agent reuses connections, as clients do; a request that gets no answer in
 * `timeoutMs` rejects (a hang is a finding too).
 */
export function sender(baseUrl: string, opts: { connections: number; timeoutMs: number }) {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const { hostname, port } = new URL(baseUrl);
  const send = (req: FuzzRequest): Promise<FuzzResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...req.headers };
      // Always the true length (a mismatch is what raw-http.ts sends on purpose).
      if (req.body !== undefined) headers["content-length"] = String(req.body.length);
      const outgoing = request({ agent, hostname, port, method: req.method, path: req.path, headers, timeout: opts.timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        const answer = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", answer);
        res.on("error", reject);
        // A watch stream stays open while its job runs: its status and headers are the answer.
        if (String(res.headers["content-type"]).startsWith("text/event-stream")) {
          answer();
          outgoing.destroy();
        }
      });
      outgoing.on("timeout", () => outgoing.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
      outgoing.on("error", reject);
      outgoing.end(req.body);
    });
  return { send, close: () => agent.destroy() };
}

/** Runs `task` over `items` with at most `limit` running at once, in order of the items. */
export async function inParallel<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await task(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
