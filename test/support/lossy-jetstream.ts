import { TimeoutError } from "@nats-io/transport-node";
import type { JetStreamClient } from "@nats-io/jetstream";

/**
 * A real JetStream client whose first `n` publishes get no answer, as after a lost ack or
 * a server too busy to answer in time: "stored" publishes reach the stream and only the
 * ack is lost, "dropped" ones never arrive. Every later publish goes through untouched.
 */
export function losingAnswers(js: JetStreamClient, n: number, fate: "stored" | "dropped"): { js: JetStreamClient; sent: () => number } {
  let sent = 0;
  const publish: JetStreamClient["publish"] = async (...args) => {
    sent++;
    if (sent > n) return js.publish(...args);
    if (fate === "stored") await js.publish(...args);
    throw new TimeoutError();
  };
  const lossy = new Proxy(js, { get: (target, key) => (key === "publish" ? publish : Reflect.get(target, key, target)) });
  return { js: lossy, sent: () => sent };
}
