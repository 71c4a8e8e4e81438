import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeProblem, OLDEST_NODE } from "../lib/node-version.mjs";

const ROOT = join(import.meta.dirname, "..", "..");

describe("the Node.js the scripts need", () => {
  it("names the version found and the one needed for Node 20, and says how to get 24", () => {
    const message = nodeProblem("20.20.2", { typescript: undefined }, "/usr/bin/node");
    expect(message).toContain("Node.js 20.20.2 found at /usr/bin/node");
    expect(message).toContain(`needs ${OLDEST_NODE} or later`);
    expect(message).toContain("source scripts/node-env.sh");
  });

  it("accepts 22.18 and later with type stripping, refuses 22.17 and stripping turned off", () => {
    expect(nodeProblem("24.22.3", { typescript: "strip" }, "node")).toBeNull();
    expect(nodeProblem("22.18.0", { typescript: "strip" }, "node")).toBeNull();
    expect(nodeProblem("22.17.1", { typescript: undefined }, "node")).toContain("needs 22.18.0");
    expect(nodeProblem("24.22.3", { typescript: false }, "node")).toContain("type stripping");
  });

  it("lets a service start on this Node, and stops an old one before any TypeScript loads", () => {
    const ok = spawnSync(process.execPath, ["--import", "./scripts/require-node.mjs", "-e", "console.log('ran')"], { cwd: ROOT, encoding: "utf8" });
    expect(ok.stdout.trim()).toBe("ran");
    // The machine's own node, when it is older (CI machines ship Node 20): `pnpm start:runner` as it would run there.
    const system = "/usr/bin/node";
    let version = "";
    try {
      version = execFileSync(system, ["-p", "process.versions.node"], { encoding: "utf8" }).trim();
    } catch {
      return; // no system node: the table above is the whole check
    }
    if (nodeProblem(version, { typescript: undefined }, system) === null) return;
    const old = spawnSync(system, ["--import", "./scripts/require-node.mjs", "services/runner/src/main.ts"], { cwd: ROOT, encoding: "utf8" });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain(`Node.js ${version} found`);
    expect(old.stderr).not.toMatch(/ERR_UNKNOWN_FILE_EXTENSION|at \w+ \(/);
  });
});
