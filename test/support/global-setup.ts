import { ensureTool, NATS_CLI, NATS_SERVER } from "../../scripts/lib/nats-tools.ts";

/**
 * Once per test run, before any worker starts: the pinned nats-server and nats CLI are
 * there (built with `go install` on a machine that lacks them), so no test file builds
 * one on its own.
 */
export default function setup(): void {
  ensureTool(NATS_SERVER);
  ensureTool(NATS_CLI);
}
