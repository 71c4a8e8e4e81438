import { pathOf } from "./check-response.ts";
import type { FuzzRequest } from "./requests.ts";

/** What the fuzz found wrong: the kind (what broke) and an example (which request). */
export interface Finding {
  kind: string;
  example: string;
}

export function describeRequest(req: FuzzRequest): string {
  const body = req.body === undefined ? "" : ` body(${req.body.length} B)=${JSON.stringify(req.body.toString("utf8").slice(0, 300))}`;
  return `${req.method} ${req.path.slice(0, 200)} ${JSON.stringify(req.headers).slice(0, 300)}${body}`;
}

/** Findings grouped by kind (most frequent first), with the first examples of each, and how to replay. */
export function findingsReport(found: readonly Finding[], seed: number, logs: string): string {
  const groups = new Map<string, string[]>();
  for (const { kind, example } of found) groups.set(kind, [...(groups.get(kind) ?? []), example]);
  const lines = [...groups]
    .sort(([, a], [, b]) => b.length - a.length)
    .map(([kind, examples]) => `- ${kind} (x${examples.length}), e.g.:\n${examples.slice(0, 3).map((e) => `    ${e.slice(0, 600)}`).join("\n")}`);
  return `${found.length} finding(s), seed ${seed} (replay: FUZZ_SEED=${seed}):\n${lines.join("\n")}\n\n${logs.slice(-20_000)}`;
}

/** Answers counted by status code, and per route (method and path shape) by status. */
export class StatusTally {
  private readonly byStatus = new Map<string, number>();
  private readonly byRoute = new Map<string, Map<string, number>>();

  add(req: Pick<FuzzRequest, "method" | "path">, status: number | "no answer"): void {
    const path = pathOf(req.path);
    const shape = path === "/job" || path === "/job-types" || path === "/healthz" || path === "/readyz" ? path : path.startsWith("/job/") ? path.replace(/^\/job\/[^/]*/, "/job/:id").slice(0, 30) : "(other)";
    const route = `${req.method} ${shape}`;
    const key = String(status);
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1);
    const counts = this.byRoute.get(route) ?? new Map<string, number>();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    this.byRoute.set(route, counts);
  }

  summary(): string {
    const line = (counts: Map<string, number>) => [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${s}×${n}`).join(" ");
    const routes = [...this.byRoute].sort(([a], [b]) => a.localeCompare(b)).map(([route, counts]) => `  ${route.padEnd(40)} ${line(counts)}`);
    return `by status: ${line(this.byStatus)}\nby route:\n${routes.join("\n")}`;
  }
}
