import type { JetStreamClient } from "@jobs/nats";

/** The pull consumer type, derived from the client @jobs/nats re-exports (the runner depends on @jobs/nats alone). */
export type Consumer = Awaited<ReturnType<JetStreamClient["consumers"]["get"]>>;
export type { JsMsg } from "@jobs/nats";
