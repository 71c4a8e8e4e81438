import { ensureTool, NATS_CLI, NATS_SERVER, ToolMissingError } from "./lib/nats-tools.ts";

/**
 * `pnpm nats-server:path` and `pnpm nats:path`: print the absolute path of the pinned
 * binary on stdout (one line), building it first when it is missing; everything else
 * goes to stderr.
 */
const tools = { "nats-server": NATS_SERVER, nats: NATS_CLI } as const;
const name = process.argv[2] as keyof typeof tools;
const tool = tools[name];
if (!tool) {
  process.stderr.write(`usage: tool-path.ts ${Object.keys(tools).join(" | ")}\n`);
  process.exit(2);
}
try {
  process.stdout.write(`${ensureTool(tool)}\n`);
} catch (err) {
  process.stderr.write(`${err instanceof ToolMissingError ? err.message : String(err instanceof Error ? err.message : err)}\n`);
  process.exit(1);
}
