import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { startService, type ServiceName } from "../support/services.ts";

/**
 * One way to report a bad start: each service's main.ts ends with
 * `main().catch((err) => exitOnBadStart(<service>, err))`, so a setting the person
 * starting it can fix is said in a line of its own, without a stack trace, and the
 * process exits 1. No NATS is needed: the configuration is read before connecting.
 */
describe.each<ServiceName>(["gateway", "runner", "projector"])("%s with a bad setting", (name) => {
  it("says which setting and why in one plain message, and exits 1", async () => {
    const service = startService(name, { JOBS_PREFIX: "Not A Prefix!", NATS_URL: "nats://127.0.0.1:1" });
    const [code] = (await once(service.child, "exit")) as [number | null];
    const output = service.output();
    expect(code, output).toBe(1);
    expect(output).toMatch(new RegExp(`^${name}: invalid configuration:\\n  - JOBS_PREFIX: `));
    expect(output, "no stack trace").not.toMatch(/^\s+at /m);
  });
});
