import { TimeoutError } from "@nats-io/transport-node";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";

/**
 * A real JetStream client whose first `n` publishes get no answer, as after a lost ack or
 * a server too busy to answer in time: "stored" publishes reach the server, which stores
 * or refuses them as it would (a repeat fails the expectation its first copy broke), and
 * only its answer is lost; "dropped" ones never arrive. Every later publish goes through
 * untouched.
 */
export function losingAnswers(js: JetStreamClient, n: number, fate: "stored" | "dropped"): { js: JetStreamClient; sent: () => number } {
  let sent = 0;
  const publish: JetStreamClient["publish"] = async (...args) => {
    sent++;
    if (sent > n) return js.publish(...args);
    if (fate === "stored") await js.publish(...args).catch(() => undefined); // whatever it answered is lost
    throw new TimeoutError();
  };
  const lossy = new Proxy(js, { get: (target, key) => (key === "publish" ? publish : Reflect.get(target, key, target)) });
  return { js: lossy, sent: () => sent };
}

/**
 * A real JetStream manager whose message reads (`direct.getMessage`, `streams.getMessage`:
 * how EventLog looks a job's subject up) time out while `down()` is true, as from a server
 * too busy to answer. Everything else goes through untouched.
 */
export function failingReads(jsm: JetStreamManager, down: () => boolean): JetStreamManager {
  const getMessageFailing = <T extends object>(api: T): T =>
    new Proxy(api, {
      get: (target, key) => {
        if (key === "getMessage" && down()) {
          return async () => {
            throw new TimeoutError();
          };
        }
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  return new Proxy(jsm, {
    get: (target, key) => (key === "direct" || key === "streams" ? getMessageFailing(target[key]) : Reflect.get(target, key, target)),
  });
}
