import { decodeEvent, routeOf } from "@jobs/core";
import { newDispatch, type DispatchLog } from "@jobs/nats";
import type { Logger } from "pino";
import type { JsMsg } from "./nats-types.ts";

/**
 * Routes one routed request (a priority, a runAt or a startBy) into the dispatch stream:
 * its expiry schedule, then its first attempt into its ready queue, or a schedule that puts
 * it there at its runAt. Acked once all of that is stored; a redelivery routes again,
 * which dispatches nothing that runs twice (decideDelivery).
 */
export async function routeRequest(msg: JsMsg, deps: { dispatch: DispatchLog; log: Logger }): Promise<void> {
  let event;
  try {
    event = decodeEvent(msg.data);
  } catch (err) {
    deps.log.error({ err, subject: msg.subject }, "undecodable routed request; terminating it");
    return msg.term();
  }
  if (event.type !== "JobRequested") return msg.term();
  const route = routeOf(event, new Date());
  const first = newDispatch(event.jobId, 1);
  if (route.expireAt !== null) await deps.dispatch.expireAt(event.jobId, route.expireAt);
  if (route.waitUntil !== null) await deps.dispatch.waitUntil(route.priority, first, route.waitUntil);
  else await deps.dispatch.ready(route.priority, first);
  msg.ack();
}
