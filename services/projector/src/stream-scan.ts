import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from "@jobs/nats";
import { decodeEvent, type JobNames, type StoredEvent } from "@jobs/core";
import type { Logger } from "@jobs/service";

export interface ScanResult {
  /** The stream's last sequence when the scan started: the scan read everything up to it. */
  lastSeq: number;
  eventsRead: number;
  undecodable: number;
}

/** A scan that receives nothing for this long has lost the server; fail rather than hang. */
const STALL_MS = 30_000;

/**
 * Reads the whole stream, from its first event up to the last one at the start, through
 * an ordered consumer (the client re-creates it at the right sequence after any gap).
 */
export async function scanStream(
  deps: { js: JetStreamClient; jsm: JetStreamManager; names: JobNames; log: Logger },
  onEvent: (stored: StoredEvent) => void,
): Promise<ScanResult> {
  const { state } = await deps.jsm.streams.info(deps.names.stream);
  const result: ScanResult = { lastSeq: state.last_seq, eventsRead: 0, undecodable: 0 };
  if (state.messages === 0) return result;

  const consumer = await deps.js.consumers.get(deps.names.stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 2000 });
  let lastProgress = Date.now();
  let seen = 0;
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > STALL_MS) messages.stop(new Error(`stream scan stalled after seq ${seen} of ${result.lastSeq}`));
  }, 1000);
  try {
    for await (const m of messages) {
      lastProgress = Date.now();
      seen = m.seq;
      if (m.seq > result.lastSeq) break;
      result.eventsRead++;
      try {
        onEvent({ seq: m.seq, event: decodeEvent(m.data) });
      } catch (err) {
        result.undecodable++;
        deps.log.error({ seq: m.seq, subject: m.subject, err }, "undecodable event skipped");
      }
      if (m.seq === result.lastSeq) break;
    }
  } finally {
    clearInterval(watchdog);
    messages.stop();
    await consumer.delete().catch(() => undefined);
  }
  return result;
}
