import { request, type IncomingHttpHeaders } from "node:http";

/** One parsed server-sent event; `comment` holds a `: ...` line (a heartbeat) instead. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

export interface SseConnection {
  status: number;
  headers: IncomingHttpHeaders;
  /** Messages and comments so far, in order. */
  readonly messages: SseMessage[];
  /** Resolves when the server ends the response (or the connection closes). */
  readonly ended: Promise<void>;
  /** Drops the connection, as a client that goes away does. */
  close(): void;
}

/** Splits an SSE body into messages (WHATWG HTML, "Server-sent events": blank-line separated fields). */
export function parseSse(text: string): SseMessage[] {
  return text
    .split("\n\n")
    .filter((block) => block.length > 0)
    .map((block) => {
      const message: SseMessage = {};
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) message.comment = line.slice(1).trim();
        const m = /^(id|event|data): ?(.*)$/.exec(line);
        if (m) message[m[1] as "id" | "event" | "data"] = m[2]!;
      }
      return message;
    });
}

/** A raw HTTP client for a text/event-stream endpoint: the tests see exactly what crosses the wire. */
export function openSse(url: string, headers: Record<string, string> = {}): Promise<SseConnection> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream", ...headers } }, (res) => {
      let buffer = "";
      const messages: SseMessage[] = [];
      const ended = new Promise<void>((done) => res.once("close", done));
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        const cut = buffer.lastIndexOf("\n\n");
        if (cut < 0) return;
        messages.push(...parseSse(buffer.slice(0, cut + 2)));
        buffer = buffer.slice(cut + 2);
      });
      res.on("error", () => undefined); // a dropped connection: `ended` tells
      resolve({ status: res.statusCode ?? 0, headers: res.headers, messages, ended, close: () => req.destroy() });
    });
    req.on("error", reject);
    req.end();
  });
}
