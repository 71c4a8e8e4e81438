import type { KV } from "@nats-io/kv";
import { Compile } from "typebox/compile";
import { JobTypeDescriptor, parseJson } from "@jobs/core";
import type { Logger } from "pino";
import { sleep } from "@jobs/service";

const checkDescriptor = Compile(JobTypeDescriptor);

/** Runners announce the job types they can run: one key per type in the types bucket. */
export async function announceJobTypes(kv: KV, descriptors: JobTypeDescriptor[]): Promise<void> {
  for (const d of descriptors) {
    if (!checkDescriptor.Check(d)) throw new Error(`invalid job type descriptor ${JSON.stringify(d)}`);
    const current = await kv.get(d.name);
    const data = JSON.stringify(d);
    if (current?.operation === "PUT" && current.string() === data) continue;
    await kv.put(d.name, data);
  }
}

/**
 * The gateway's live copy of the registry: a KV watch keeps it current as runners with
 * new types start. `ready` resolves once the initial values are in.
 */
export class JobTypeCatalog {
  private readonly types = new Map<string, JobTypeDescriptor>();

  private readonly log: Logger;

  constructor(log: Logger) {
    this.log = log;
  }

  list(): JobTypeDescriptor[] {
    return [...this.types.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  get(name: string): JobTypeDescriptor | undefined {
    return this.types.get(name);
  }

  set(d: JobTypeDescriptor): void {
    this.types.set(d.name, d);
  }

  /** Watches the bucket until `signal` aborts, re-creating the watch when it ends. */
  async follow(kv: KV, signal: AbortSignal): Promise<void> {
    let initial = true;
    const ready = new Promise<void>((resolve) => {
      void (async () => {
        let backoff = 250;
        while (!signal.aborted) {
          try {
            const watch = await kv.watch();
            if ((await kv.status()).values === 0) resolve();
            signal.addEventListener("abort", () => watch.stop(), { once: true });
            backoff = 250;
            for await (const e of watch) {
              if (e.operation !== "PUT") {
                this.types.delete(e.key);
              } else {
                const d = parseJson(e.value);
                if (checkDescriptor.Check(d)) this.set(d);
                else this.log.warn({ key: e.key }, "ignoring invalid job type descriptor");
              }
              if (e.delta === 0) resolve(); // caught up with the values present at start
            }
          } catch (err) {
            this.log.warn({ err }, "job type watch failed; retrying");
          }
          if (initial) resolve();
          initial = false;
          await sleep(backoff, signal);
          backoff = Math.min(backoff * 2, 10_000);
        }
        resolve();
      })();
    });
    await ready;
  }
}
