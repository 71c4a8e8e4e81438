import { spawnSync } from "node:child_process";
import { accessSync, constants, mkdirSync, renameSync, rmSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The one place that pins the NATS tools the project runs: the nats-server release that
 * `pnpm start`, the tests, the benchmark and CI use (docker-compose.yml names the same
 * release, and a unit test holds it to this), and the `nats` CLI the README's recipes are
 * tested with. Each is built once with `go install` of its module at the pinned version
 * into `.tools/` (git-ignored), unless a good enough one is already on PATH.
 */
export interface NatsTool {
  /** The command's name, also the binary's. */
  readonly name: "nats-server" | "nats";
  /** The pinned release, without the leading "v". */
  readonly version: string;
  /** What `go install` builds. */
  readonly goPackage: string;
  /** Which versions found on PATH are good enough. */
  accepts(found: string): boolean;
}

const NATS_SERVER_VERSION = "2.15.3";
const NATS_CLI_VERSION = "0.5.1";

export const NATS_SERVER: NatsTool = {
  name: "nats-server",
  version: NATS_SERVER_VERSION,
  goPackage: "github.com/nats-io/nats-server/v2",
  // This release or a later patch of the same line.
  accepts: (found) => sameLineAtLeast(found, NATS_SERVER_VERSION),
};

export const NATS_CLI: NatsTool = {
  name: "nats",
  version: NATS_CLI_VERSION,
  goPackage: "github.com/nats-io/natscli/nats",
  accepts: (found) => found === NATS_CLI_VERSION,
};


const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const TOOLS_DIR = join(ROOT, ".tools");

export class ToolMissingError extends Error {}

/** `major.minor.patch` of a version string such as "v2.15.3" or "2.15.3-RC.1"; null when it has none. */
export function parseVersion(text: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

/** True when `found` is `wanted` or newer. */
export function atLeast(found: string, wanted: string): boolean {
  const a = parseVersion(found);
  const b = parseVersion(wanted);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! > b[i]!;
  return true;
}

function sameLineAtLeast(found: string, wanted: string): boolean {
  const a = parseVersion(found);
  const b = parseVersion(wanted);
  return !!a && !!b && a[0] === b[0] && a[1] === b[1] && a[2] >= b[2];
}

/** Where to look: the folder built binaries go to, and the PATH to search (tests point both elsewhere). */
export interface ToolPlaces {
  toolsDir?: string;
  path?: string;
}

/** Where `pnpm nats-server:path` / `pnpm nats:path` keep the binary they build. */
export function installedPath(tool: NatsTool, toolsDir = TOOLS_DIR): string {
  return join(toolsDir, `${tool.name}-v${tool.version}`, tool.name);
}

/** The version a binary reports (`nats-server --version`, `nats --version`), or null. */
export function reportedVersion(binary: string): string | null {
  const out = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: 10_000 });
  if (out.status !== 0) return null;
  const v = parseVersion(`${out.stdout}${out.stderr}`);
  return v ? v.join(".") : null;
}

function onPath(name: string, path = process.env.PATH ?? ""): string[] {
  // Debian puts nats-server in /usr/sbin, outside most users' PATH.
  const dirs = [...path.split(delimiter).filter(Boolean), "/usr/sbin", "/usr/local/sbin"];
  return dirs.map((dir) => join(dir, name)).filter(isExecutable);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The binary to run, without building anything: `$<NAME>_BIN` when set (trusted as it
 * is), else the one built into `.tools/`, else the first good enough one on PATH. Null
 * when there is none.
 */
export function findTool(tool: NatsTool, places: ToolPlaces = {}): string | null {
  const override = process.env[tool.name === "nats" ? "NATS_CLI_BIN" : "NATS_SERVER_BIN"];
  if (override) return override;
  const built = installedPath(tool, places.toolsDir);
  if (isExecutable(built)) return built;
  for (const candidate of onPath(tool.name, places.path)) {
    const version = reportedVersion(candidate);
    if (version && tool.accepts(version)) return candidate;
  }
  return null;
}

/** What to tell someone who has neither the binary nor Go. */
export function installHint(tool: NatsTool, toolsDir = TOOLS_DIR): string {
  const lines = [
    `${tool.name} ${tool.version} was not found (not in .tools/, and none good enough on PATH), and Go is not installed to build it.`,
    "Any one of these gets it:",
    `  - install Go (https://go.dev/dl/; Debian: apt-get install golang) and run again: it runs`,
    `      CGO_ENABLED=0 GOBIN=${dirname(installedPath(tool, toolsDir))} go install ${tool.goPackage}@v${tool.version}`,
  ];
  if (tool.name === "nats-server") {
    lines.push(
      `  - download the release binary from https://github.com/nats-io/nats-server/releases/tag/v${tool.version} and put it on PATH (or set NATS_SERVER_BIN)`,
      `  - run it with Docker: docker run -p 4222:4222 nats:${tool.version}-alpine -js, and set NATS_URL=nats://127.0.0.1:4222`,
    );
  } else {
    lines.push(`  - download the release from https://github.com/nats-io/natscli/releases/tag/v${tool.version} and put it on PATH (or set NATS_CLI_BIN)`);
  }
  return lines.join("\n");
}

function findGo(path?: string): string | null {
  // The official tarball's place, often not on PATH.
  return onPath("go", path).concat(path === undefined ? ["/usr/local/go/bin/go"].filter(isExecutable) : [])[0] ?? null;
}

/**
 * The binary to run, building it first with `go install` when there is none (progress
 * goes to stderr). Throws ToolMissingError with installHint() when Go is missing too.
 */
export function ensureTool(
  tool: NatsTool,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  places: ToolPlaces = {},
): string {
  const found = findTool(tool, places);
  if (found) return found;
  const go = findGo(places.path);
  if (!go) throw new ToolMissingError(installHint(tool, places.toolsDir));
  const target = installedPath(tool, places.toolsDir);
  // Built into a folder of its own, then moved: a build interrupted halfway never leaves a
  // binary that looks finished.
  const staging = `${dirname(target)}.building-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  log(`building ${tool.name} ${tool.version} with ${go} (once; a minute or three): go install ${tool.goPackage}@v${tool.version}`);
  const build = spawnSync(go, ["install", `${tool.goPackage}@v${tool.version}`], {
    env: { ...process.env, CGO_ENABLED: "0", GOBIN: staging, GOFLAGS: process.env.GOFLAGS ?? "" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (build.status !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`go install ${tool.goPackage}@v${tool.version} failed (exit ${build.status ?? build.signal})`);
  }
  try {
    renameSync(staging, dirname(target));
  } catch (err) {
    // Another process built it at the same moment: theirs is as good as ours.
    rmSync(staging, { recursive: true, force: true });
    if (!isExecutable(target)) throw err;
  }
  log(`built ${target}`);
  return target;
}
