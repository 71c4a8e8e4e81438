// Loaded before every entry point (`node --import ./scripts/require-node.mjs <main>.ts`,
// and run on its own before `vitest`): plain JavaScript, so that an old Node says what is
// wrong instead of failing on the TypeScript that follows.
import { nodeProblem } from "./lib/node-version.mjs";

const problem = nodeProblem(process.versions.node, process.features, process.execPath);
if (problem !== null) {
  process.stderr.write(`${problem}\n`);
  process.exit(1);
}
