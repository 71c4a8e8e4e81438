import { decideExpiry, parseJson, type ExpiryDecision } from "@jobs/core";
import { handleCommand, type DispatchLog, type EventLog } from "@jobs/nats";
import type { Logger } from "pino";
import type { JsMsg } from "./nats-types.ts";

/**
 * A job's startBy has come (its expiry schedule fired): ends it cancelled (`expired`)
 * unless it has started or ended (decideExpiry), through the one conditional append, so
 * that an expiry and a runner's start can never both win.
 */
export async function expireJob(msg: JsMsg, deps: { events: EventLog; dispatch: DispatchLog; log: Logger }): Promise<void> {
  const jobId = (parseJson(msg.data) as { jobId?: unknown } | undefined)?.jobId;
  if (typeof jobId !== "string") return msg.term();
  const result = await handleCommand<Exclude<ExpiryDecision, { kind: "expire" }> | { kind: "unknown" }>(
    deps.events,
    jobId,
    (events) => {
      if (events.length === 0) return { reject: { kind: "unknown" } }; // never requested: nothing to expire
      const decision = decideExpiry(events, new Date());
      return decision.kind === "expire" ? { append: decision.append } : { reject: decision };
    },
    { append: (d, seq) => deps.events.append(d.event, d.msgId, { expectLastEventSeq: seq }) },
  );
  if (result.kind === "appended") deps.log.info({ jobId }, "job expired: not started by its startBy");
  else if (result.rejection.kind === "early") await deps.dispatch.expireAt(jobId, result.rejection.until);
  msg.ack();
}
