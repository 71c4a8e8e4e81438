import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { jobNames, PRIORITIES, type StoredEvent } from "@jobs/core";
import { ensureTool, NATS_CLI } from "../../scripts/lib/nats-tools.ts";
import { startNatsServer, testPrefix, type NatsServerHandle } from "../support/nats-server.ts";
import { startStack, type Stack } from "../support/services.ts";
import { apiClient } from "../support/http.ts";
import { eventually } from "../support/eventually.ts";
import { acceptedIds, postJobs, waitForFinal } from "../support/job-traffic.ts";
import { allJobHistories, jobHistory } from "../support/job-history.ts";

/**
 * The README's "NATS names and the `nats` CLI" section, run as written: every `nats ...`
 * line of its ```sh block is read from README.md, translated to this test's server
 * (`--server`) and prefix (the README shows the default prefix `jobs`, stream `JOBS`),
 * run with the pinned natscli against a live stack that has run a few jobs to the end,
 * and its output checked against what the stream holds. A README line without a check
 * here fails, and so does a check whose line left the README: the two cannot drift.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SECTION = "## NATS names and the `nats` CLI";
/** The application of the stack's token (test/support/services.ts). */
const APP = "e2e";

const prefix = testPrefix("cli");
const names = jobNames(prefix);

let nats: NatsServerHandle;
let stack: Stack;
let api: ReturnType<typeof apiClient>;
let nc: NatsConnection;
let cli: string;
/** HOME of every `nats` run: an empty one, so no user context or setting leaks in. */
let home: string;
/** The countdown job every recipe about "one job" is run on. */
let jobId: string;
const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------------
// The README's recipes

interface Recipe {
  /** The line as the README has it. */
  line: string;
  /** The line without its comment. */
  command: string;
  /** Its words after `nats`, with the README's names (shell quoting removed). */
  words: string[];
}

/** Every `nats` line of the ```sh blocks of the README's NATS section, in order. */
function readmeRecipes(): Recipe[] {
  const text = readFileSync(join(ROOT, "README.md"), "utf8");
  const start = text.indexOf(`\n${SECTION}\n`);
  if (start < 0) throw new Error(`README.md has no section "${SECTION}"`);
  const end = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, end < 0 ? undefined : end);
  const lines = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split("\n"));
  return lines
    .map((l) => l.trim())
    .filter((l) => l.startsWith("nats "))
    .map((line) => {
      const { words, end } = shellWords(line);
      return { line, command: line.slice(0, end).trim(), words: words.slice(1) };
    });
}

/**
 * The words of one shell line up to its comment: plain words and '...' or "..." quoting,
 * which is all the README uses. Anything the shell would expand is refused rather than
 * guessed at.
 */
function shellWords(line: string): { words: string[]; end: number } {
  const words: string[] = [];
  let word: string | null = null;
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    if (c === "'" || c === '"') {
      const close = line.indexOf(c, i + 1);
      if (close < 0) throw new Error(`unclosed ${c} in README line: ${line}`);
      const quoted = line.slice(i + 1, close);
      if (c === '"' && /[$`\\]/.test(quoted)) throw new Error(`shell expansion in README line, not supported here: ${line}`);
      word = (word ?? "") + quoted;
      i = close + 1;
    } else if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
      i++;
    } else if (c === "#" && word === null) {
      break;
    } else if ("$`\\|;&<>(){}*?[]~".includes(c)) {
      throw new Error(`unquoted shell character ${c} in README line, not supported here: ${line}`);
    } else {
      word = (word ?? "") + c;
      i++;
    }
  }
  if (word !== null) words.push(word);
  return { words, end: i };
}

/** The README's names and placeholders as this test's: stream, prefix, job id, application. */
function translate(word: string): string {
  if (word === "JOBS") return names.stream;
  const out = word
    .replace(/^jobs(?=[.-])/, prefix)
    .replaceAll("01KAW3...", jobId)
    .replace(/^myapp\./, `${APP}.`);
  if (out.includes("...")) throw new Error(`README placeholder this test does not know: ${word}`);
  return out;
}

/** A recipe's arguments for this test's server, with no context of any user. */
function argv(recipe: Recipe): string[] {
  return ["--no-context", "--server", nats.url, ...recipe.words.map(translate)];
}

// ---------------------------------------------------------------------------------------
// Running natscli

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cleanEnv(): NodeJS.ProcessEnv {
  // Nothing of the user's NATS_* variables, contexts (~/.config/nats) or colours.
  return { PATH: process.env.PATH, HOME: home, NATS_CONTEXT: "", SHELL: "/bin/sh", TERM: "dumb", LANG: "C.UTF-8" };
}

/** Runs `file args`, stdin closed, and returns its exit code and output (never throws for a non-zero exit). */
function execute(file: string, args: string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(file, args, { env: cleanEnv(), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== "number" && !err.killed) return reject(err);
      if (err?.killed) return reject(new Error(`${file} ${args.join(" ")} did not end within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      resolveRun({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

/** `nats <args>`, expected to succeed. */
async function natsCli(args: string[]): Promise<string> {
  const run = await execute(cli, args);
  expect(run.code, `nats ${args.join(" ")}\n${run.stdout}\n${run.stderr}`).toBe(0);
  return run.stdout;
}

/** `nats <args>` on a pseudo-terminal (util-linux `script`), for the commands that insist on one. */
async function natsCliInTerminal(args: string[]): Promise<string> {
  const command = [cli, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const run = await execute("script", ["--quiet", "--return", "--command", command, "/dev/null"]);
  const out = run.stdout.replaceAll("\r", "");
  expect(run.code, `(on a terminal) nats ${args.join(" ")}\n${out}\n${run.stderr}`).toBe(0);
  return out;
}

/** `nats <args>` left running (a subscription): its output so far, and a stop. */
function natsCliRunning(args: string[]): { output(): string; stop(): Promise<void> } {
  const child = spawn(cli, args, { env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<void>((r) =>
    child.once("exit", () => {
      children.delete(child);
      r();
    }),
  );
  return {
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

// ---------------------------------------------------------------------------------------
// Reading what natscli printed

/** The JSON bodies natscli printed (each event is one line of JSON), parsed. */
function jsonLines(out: string): any[] {
  return out
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}

/** `Label: value` of natscli's info screens. */
function field(out: string, label: string): string {
  const m = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: (.*)$`, "m").exec(out);
  if (!m) throw new Error(`no "${label}:" in:\n${out}`);
  return m[1]!.trim();
}

/** The rows of a natscli table (`│ a │ b │`), as objects keyed by the header's cells. */
function tableRows(out: string): Record<string, string>[] {
  const rows = out
    .split("\n")
    .filter((l) => l.startsWith("│") && l.indexOf("│", 1) > 0)
    .map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
  const [header, ...body] = rows.filter((r) => r.length > 1);
  if (!header) throw new Error(`no table in:\n${out}`);
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ""])));
}

const typesOf = (events: StoredEvent[]) => events.map((e) => e.event.type);

/** The stream's messages of the event family (`<p>.event.*`), in stream order. */
async function eventFamily(): Promise<StoredEvent[]> {
  const histories = await allJobHistories(nc, names);
  return [...histories.values()]
    .flat()
    .filter((e) => e.event.type !== "JobRequested")
    .sort((a, b) => a.seq - b.seq);
}

// ---------------------------------------------------------------------------------------
// What each recipe must print. `line` matches the README's line as written.

interface Check {
  line: RegExp;
  run(recipe: Recipe): Promise<void>;
}

const CHECKS: Check[] = [
  {
    line: /^nats stream info JOBS\b/,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      // The settings the table above and "Guarantees" claim.
      expect(field(out, "Subjects")).toBe(`${prefix}.requested.*, ${prefix}.event.*, ${prefix}.routed-high.*, ${prefix}.routed.*, ${prefix}.routed-low.*`);
      expect(field(out, "Storage")).toBe("File");
      expect(field(out, "Replicas")).toBe("1");
      expect(field(out, "Retention")).toBe("Limits");
      expect(field(out, "Allows Msg Delete")).toBe("false");
      expect(field(out, "Allows Purge")).toBe("false");
      expect(field(out, "Direct Get")).toBe("true");
      expect(field(out, "Duplicate Window")).toBe("2m0s");
      expect(field(out, "Maximum Messages")).toBe("unlimited");
      expect(field(out, "Maximum Age")).toBe("unlimited");
      // Size and sequences: nothing deleted, so as many messages as the last sequence.
      const info = await (await jetstreamManager(nc)).streams.info(names.stream);
      expect(field(out, "First Sequence")).toMatch(/^1 @ /);
      expect(field(out, "Last Sequence")).toMatch(new RegExp(`^${info.state.last_seq} @ `));
      expect(field(out, "Messages")).toBe(info.state.last_seq.toLocaleString("en-US"));
    },
  },
  {
    // An interactive pager: natscli refuses it without a terminal, so it runs on one.
    line: /^nats stream view JOBS --subject /,
    async run(recipe) {
      const out = await natsCliInTerminal(argv(recipe));
      const history = await jobHistory(nc, names, jobId);
      const shown = [...out.matchAll(/^\[(\d+)\] Subject: (\S+) /gm)].map((m) => ({ seq: Number(m[1]), subject: m[2] }));
      expect(shown).toEqual(
        history.map((e) => ({ seq: e.seq, subject: e.event.type === "JobRequested" ? names.requestSubject(jobId) : names.eventSubject(jobId) })),
      );
      expect(jsonLines(out)).toEqual(history.map((e) => e.event));
    },
  },
  {
    line: /^nats sub 'jobs\.\*\.01KAW3\.\.\.' --stream JOBS /,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      const history = await jobHistory(nc, names, jobId);
      // One event per line, nothing else: JobRequested, JobStarted, JobProgress..., JobFinished.
      expect(out.trim().split("\n").map((l) => JSON.parse(l))).toEqual(history.map((e) => e.event));
    },
  },
  {
    line: /^nats stream get JOBS --last-for jobs\.requested\./,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      const [requested] = await jobHistory(nc, names, jobId);
      expect(out).toContain(`Item: ${names.stream}#${requested!.seq} `);
      expect(out).toContain(`on Subject ${names.requestSubject(jobId)}`);
      expect(jsonLines(out)).toEqual([requested!.event]);
      expect(requested!.event).toMatchObject({ type: "JobRequested", data: { jobType: "countdown", params: { seconds: 1 } } });
    },
  },
  {
    line: /^nats consumer report JOBS\b/,
    async run(recipe) {
      // Idle: the services' consumers have nothing left to process or acknowledge.
      await eventually(async () => {
        const rows = tableRows(await natsCli(argv(recipe)));
        const byName = new Map(rows.map((r) => [r["Consumer"], r]));
        for (const consumer of [names.runnerConsumer, ...PRIORITIES.map((p) => names.routingConsumer(p)), names.projectorConsumer]) {
          const row = byName.get(consumer);
          expect(row, `${consumer} in ${JSON.stringify(rows)}`).toBeDefined();
          expect(row).toMatchObject({ Mode: "Pull", "Ack Policy": "Explicit", Unprocessed: "0", "Ack Pending": "0" });
        }
      }, { timeoutMs: 15_000, intervalMs: 250 });
    },
  },
  {
    line: /^nats consumer info JOBS jobs-runners\b/,
    async run(recipe) {
      await eventually(async () => {
        const out = await natsCli(argv(recipe));
        expect(field(out, "Name")).toBe(names.runnerConsumer);
        expect(field(out, "Filter Subject")).toBe(names.requestFilter);
        expect(field(out, "Unprocessed Messages")).toBe("0");
        expect(field(out, "Outstanding Acks")).toMatch(/^0 out of maximum /);
      }, { timeoutMs: 15_000, intervalMs: 250 });
    },
  },
  {
    line: /^nats kv get jobs-view 01KAW3\.\.\./,
    async run(recipe) {
      const view = JSON.parse(await natsCli(argv(recipe)));
      const job = (await api.get(`/job/${jobId}`)).body;
      expect(view).toMatchObject({ id: jobId, type: "countdown", status: "succeeded", result: { seconds: 1 }, attempts: 1 });
      // The same job GET /job/{id} answers (the view keeps a few more fields of its own).
      for (const key of ["params", "meta", "progress", "error", "createdAt", "startedAt", "finishedAt", "updatedAt"]) {
        expect(view[key], key).toEqual(job[key]);
      }
    },
  },
  {
    line: /^nats kv ls jobs-types\b/,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      const types = (await api.get("/job-types")).body.items.map((t: { name: string }) => t.name);
      expect(out.trim().split("\n").sort()).toEqual([...types].sort());
      expect(types).toEqual(expect.arrayContaining(["countdown", "external", "fibonacci", "pi", "sleep", "sum"]));
    },
  },
  {
    line: /^nats kv get jobs-index myapp\.head\b/,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      expect(out).toContain(`${names.indexBucket} > ${names.indexHeadKey(APP)} `);
      // A handful of jobs: all on the application's first page.
      expect(jsonLines(out)).toEqual([{ page: 1 }]);
    },
  },
  {
    // Runs until stopped, as a watch does: the test stops it once it has seen a job go by.
    line: /^nats sub 'jobs\.>'/,
    async run(recipe) {
      const sub = natsCliRunning(argv(recipe));
      try {
        // natscli says "Subscribing" before it subscribes: probe until a message arrives.
        const probe = `${prefix}.cli-probe`;
        await eventually(() => {
          nc.publish(probe, "probe");
          expect(sub.output()).toContain(`Received on "${probe}"`);
        }, { timeoutMs: 10_000, intervalMs: 200 });
        const created = await api.post("/job", { type: "sum", params: { a: 20, b: 22 } });
        expect(created.status).toBe(202);
        const id: string = created.body.id;
        await eventually(() => {
          const out = sub.output();
          expect(out).toContain(`Received on "${names.requestSubject(id)}"`);
          expect(out).toContain(`Received on "${names.eventSubject(id)}"`);
          // The projector's counts of what it folded, on the metrics subject.
          expect(out).toContain(`Received on "${names.metricsSubject}"`);
          const events = jsonLines(out).filter((e) => e.jobId === id);
          expect(events.map((e) => e.type)).toEqual(["JobRequested", "JobStarted", "JobFinished"]);
          expect(events[2].data).toMatchObject({ outcome: "succeeded", result: { value: 42 } });
          const counts = jsonLines(out).filter((e) => "finished" in e);
          expect(counts.some((c) => c.finished.sum?.succeeded >= 1)).toBe(true);
        }, { timeoutMs: 15_000, intervalMs: 100 });
      } catch (err) {
        throw new Error(`${(err as Error).message}\n--- nats sub printed ---\n${sub.output()}`);
      } finally {
        await sub.stop();
      }
    },
  },
  {
    line: /^nats consumer add JOBS replay /,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      expect(field(out, "Name")).toBe("replay");
      expect(field(out, "Pull Mode")).toBe("true");
      expect(field(out, "Filter Subject")).toBe(names.eventFilter);
      expect(field(out, "Deliver Policy")).toBe("From Sequence 1");
      expect(field(out, "Ack Policy")).toBe("None");
      expect(field(out, "Unprocessed Messages")).toBe(String((await eventFamily()).length));
    },
  },
  {
    line: /^nats consumer next JOBS replay --count 10\b/,
    async run(recipe) {
      const out = await natsCli(argv(recipe));
      // The first ten events of the event family, in stream order, from the first.
      const expected = (await eventFamily()).slice(0, 10);
      expect(expected).toHaveLength(10);
      const shown = [...out.matchAll(/subj: (\S+) \/ tries: \d+ \/ cons seq: (\d+) \/ str seq: (\d+) /g)].map((m) => ({
        subject: m[1],
        consumerSeq: Number(m[2]),
        seq: Number(m[3]),
      }));
      expect(shown).toEqual(expected.map((e, i) => ({ subject: names.eventSubject(e.event.jobId), consumerSeq: i + 1, seq: e.seq })));
      expect(jsonLines(out)).toEqual(expected.map((e) => e.event));
    },
  },
  {
    line: /^nats consumer rm JOBS replay /,
    async run(recipe) {
      await natsCli(argv(recipe));
      const jsm = await jetstreamManager(nc);
      await expect(jsm.consumers.info(names.stream, "replay")).rejects.toThrow(/consumer not found/);
      // The services' own consumers are untouched.
      await jsm.consumers.info(names.stream, names.runnerConsumer);
      await jsm.consumers.info(names.stream, names.projectorConsumer);
    },
  },
];

const recipes = readmeRecipes();

// ---------------------------------------------------------------------------------------

beforeAll(async () => {
  // The pinned natscli, as `pnpm nats:path` gets it (built with go install when missing).
  cli = ensureTool(NATS_CLI);
  home = mkdtempSync(join(tmpdir(), "jobs-nats-cli-home-"));
  nats = await startNatsServer();
  stack = await startStack({ natsUrl: nats.url, prefix });
  api = apiClient(stack.baseUrl, stack.token);
  nc = await connect({ servers: nats.url });
  // A countdown with progress, and enough short jobs for the replay's ten events.
  const bodies = [
    { type: "countdown", params: { seconds: 1 } },
    { type: "sum", params: { a: 1, b: 2 } },
    { type: "fibonacci", params: { n: 90 } },
    { type: "sum", params: { a: 2.5, b: -4 } },
    { type: "sleep", params: { ms: 0 } },
  ];
  const ids = acceptedIds(await postJobs(api, bodies, { concurrency: 1 }));
  expect(ids).toHaveLength(bodies.length);
  jobId = ids[0]!;
  const final = await waitForFinal(api, ids, { timeoutMs: 20_000, logs: stack.logs });
  for (const id of ids) expect(final.get(id)?.status, JSON.stringify(final.get(id))).toBe("succeeded");
  expect(final.get(jobId)?.progress?.percent).toBe(100);
}, 120_000);

afterAll(async () => {
  // Only a failed run leaves a subscription running.
  await Promise.all([...children].map((c) => new Promise((r) => (c.once("exit", r), c.kill("SIGKILL")))));
  await nc?.close();
  await stack?.stop();
  await nats?.dispose();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe("the README's `nats` recipes, as written, against a live stack", () => {
  it("the README's NATS section has recipes, each with a check, and every check has its recipe", () => {
    expect(recipes.length).toBeGreaterThan(0);
    const unchecked = recipes.filter((r) => !CHECKS.some((c) => c.line.test(r.line)));
    expect(unchecked.map((r) => r.line), "README recipes this test does not check: add a check").toEqual([]);
    const orphans = CHECKS.filter((c) => !recipes.some((r) => c.line.test(r.line)));
    expect(orphans.map((c) => String(c.line)), "checks whose recipe is no longer in the README").toEqual([]);
    const ambiguous = recipes.filter((r) => CHECKS.filter((c) => c.line.test(r.line)).length > 1);
    expect(ambiguous.map((r) => r.line), "README recipes matched by more than one check").toEqual([]);
  });

  // In the README's order: the replay recipe's lines depend on the ones before.
  for (const recipe of recipes) {
    it(recipe.command, async () => {
      const check = CHECKS.find((c) => c.line.test(recipe.line));
      if (!check) throw new Error(`no check for this README recipe: ${recipe.line}`);
      await check.run(recipe);
    });
  }
});
