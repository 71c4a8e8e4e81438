import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { atLeast, ensureTool, findTool, installedPath, NATS_CLI, NATS_SERVER, ToolMissingError } from "../lib/nats-tools.ts";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "jobs-tools-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An executable that answers `--version` as nats-server does. */
function fakeBinary(dir: string, name: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\necho "${name}: v${version}"\n`);
  chmodSync(file, 0o755);
  return file;
}

describe("the pinned NATS tools", () => {
  it("pins one 2.15 release of nats-server, and docker-compose.yml runs the same one", () => {
    expect(NATS_SERVER.version).toMatch(/^2\.15\.\d+$/);
    const compose = readFileSync(join(import.meta.dirname, "..", "..", "docker-compose.yml"), "utf8");
    const images = [...compose.matchAll(/image: nats:(\S+)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(0);
    expect(new Set(images)).toEqual(new Set([`${NATS_SERVER.version}-alpine`]));
  });

  it("accepts the pinned release or a later patch of its line on PATH, nothing older or of another line", () => {
    expect(NATS_SERVER.accepts(NATS_SERVER.version)).toBe(true);
    const [major, minor, patch] = NATS_SERVER.version.split(".").map(Number) as [number, number, number];
    expect(NATS_SERVER.accepts(`${major}.${minor}.${patch + 1}`)).toBe(true);
    expect(NATS_SERVER.accepts("2.9.10")).toBe(false);
    expect(NATS_SERVER.accepts(`${major}.${minor + 1}.0`)).toBe(false);
    if (patch > 0) expect(NATS_SERVER.accepts(`${major}.${minor}.${patch - 1}`)).toBe(false);
    expect(atLeast("v2.15.0", "2.15.0")).toBe(true);
    expect(atLeast("2.9.10", "2.15.0")).toBe(false);
    expect(atLeast("2.10.0", "2.9.10")).toBe(true);
  });

  it("takes a good enough nats-server on PATH and passes over an older one (Debian's 2.9)", () => {
    const old = join(tempDir(), "old");
    const good = join(tempDir(), "good");
    fakeBinary(old, "nats-server", "2.9.10");
    const goodBin = fakeBinary(good, "nats-server", NATS_SERVER.version);
    const toolsDir = tempDir();
    expect(findTool(NATS_SERVER, { toolsDir, path: `${old}:${good}` })).toBe(goodBin);
    expect(findTool(NATS_SERVER, { toolsDir, path: old })).toBeNull();
  });

  it("prefers the binary it built into the tools folder", () => {
    const toolsDir = tempDir();
    const built = fakeBinary(join(toolsDir, `nats-v${NATS_CLI.version}`), "nats", NATS_CLI.version);
    expect(installedPath(NATS_CLI, toolsDir)).toBe(built);
    expect(findTool(NATS_CLI, { toolsDir, path: "" })).toBe(built);
  });

  it("says how to get it when neither the binary nor Go is there", () => {
    const toolsDir = tempDir();
    const empty = tempDir();
    let thrown: unknown;
    try {
      ensureTool(NATS_SERVER, () => undefined, { toolsDir, path: empty });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ToolMissingError);
    const message = (thrown as Error).message;
    expect(message).toContain(`nats-server ${NATS_SERVER.version} was not found`);
    expect(message).toContain(`go install github.com/nats-io/nats-server/v2@v${NATS_SERVER.version}`);
    expect(message).toContain("releases/tag");
    expect(message).toContain("docker run");
  });
});
