import { ensureTool, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";

/**
 * Once per test run, before any worker starts: the pinned nats-server is there (built
 * with `go install` on a machine that lacks it), so no test file builds it on its own.
 */
export default function setup(): void {
  ensureTool(NATS_SERVER);
}
