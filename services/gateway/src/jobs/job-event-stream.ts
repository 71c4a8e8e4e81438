import { PassThrough, type Readable } from "node:stream";
import { isFinal, toJob, type JobView } from "@jobs/core";

/**
 * The body of `GET /job/{id}/watch`: a server-sent event stream (WHATWG HTML, "Server-sent
 * events") of the job's views. Each message is `id: <view seq>`, `event: job`, `data: <the
 * job as GET /job/{id} returns it>`; a comment line `: ping` every `heartbeatMs` keeps
 * proxies and load balancers from closing a quiet connection. The stream ends after a
 * view with a final status, or when the client goes away (the watch is stopped then).
 */

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  // Every message is news: no cache, and no proxy buffering (nginx honours X-Accel-Buffering).
  "cache-control": "no-cache",
  "x-accel-buffering": "no",
} as const;

export const SSE_PING = ": ping\n\n";

/** One SSE message. JSON.stringify never emits a raw newline, so `data` fits on one line. */
export function sseJobMessage(view: JobView): string {
  return `id: ${view.seq}\nevent: job\ndata: ${JSON.stringify(toJob(view))}\n\n`;
}

export interface JobEventStreamOptions {
  /** The view read before the stream started (it decided the 404): the first message. */
  first: JobView;
  /** The client already has views up to this seq (its Last-Event-ID): those are not sent again. */
  after: number;
  /** The job's later views; must end when `signal` aborts. */
  updates: (signal: AbortSignal) => AsyncIterable<JobView>;
  heartbeatMs: number;
  /** The watch failed in a way it could not recover from; the stream ends (the client reconnects). */
  onError: (err: unknown) => void;
  /** Ends the stream early (the server is shutting down). */
  shutdown?: AbortSignal;
}

export function jobEventStream(o: JobEventStreamOptions): Readable {
  const out = new PassThrough();
  const stop = new AbortController();
  // The client went away (fastify destroys the body when the response closes), or the server stops.
  out.once("close", () => stop.abort());
  const onShutdown = () => stop.abort();
  o.shutdown?.addEventListener("abort", onShutdown, { once: true });

  const write = (chunk: string) => {
    if (!out.destroyed && !out.writableEnded) out.write(chunk);
  };
  const ping = setInterval(() => write(SSE_PING), o.heartbeatMs);

  void (async () => {
    let last = o.after;
    /** Sends the view unless the client has it already (a watch repeats the current value); true if sent. */
    const send = (view: JobView): boolean => {
      if (view.seq <= last) return false;
      last = view.seq;
      write(sseJobMessage(view));
      return true;
    };
    try {
      const sentFirst = send(o.first);
      if (isFinal(o.first.status)) return;
      // Nothing new for a resuming client: a ping now, because the headers leave with the first bytes.
      if (!sentFirst) write(SSE_PING);
      for await (const view of o.updates(stop.signal)) {
        if (send(view) && isFinal(view.status)) break;
      }
    } catch (err) {
      o.onError(err);
    } finally {
      clearInterval(ping);
      o.shutdown?.removeEventListener("abort", onShutdown);
      stop.abort();
      if (!out.destroyed) out.end();
    }
  })();
  return out;
}
