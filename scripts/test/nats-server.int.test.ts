import { afterEach, describe, expect, it } from "vitest";
import { freePort, startNatsServer, type NatsServerHandle } from "../../test/support/nats-server.ts";
import { natsServerVersionAt } from "../lib/nats-server.ts";
import { NATS_SERVER } from "../lib/nats-tools.ts";

/** How `pnpm start` tells whether (and which) nats-server answers on a port: against a real one. */
let nats: NatsServerHandle | undefined;
afterEach(async () => {
  await nats?.dispose();
  nats = undefined;
});

describe("natsServerVersionAt", () => {
  it("reads the version a NATS server reports, and null where no NATS server answers", async () => {
    nats = await startNatsServer();
    expect(await natsServerVersionAt("127.0.0.1", nats.port)).toBe(NATS_SERVER.version);
    expect(await natsServerVersionAt("127.0.0.1", await freePort())).toBeNull();
  });
});
