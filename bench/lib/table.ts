import { median } from "./stats.ts";

/** A system lacks what the row measures (an endpoint not built yet, say). */
export interface NotAvailable {
  na: string;
  /** What the cell shows: "n/a" (missing), or "-" (does not apply, e.g. BullMQ has no projector). */
  show: string;
}

export interface Target {
  text: string;
  /** The target compares with BullMQ's figure (n/a without it). */
  relative?: boolean;
  met(ours: number, bullmq: number | undefined): boolean;
}

/** One line of the table: every run's value per system; the table shows their median. */
export interface Row {
  scenario: string;
  metric: string;
  ours: number[] | NotAvailable;
  /** Absent: not measured for BullMQ. */
  bullmq?: number[] | NotAvailable;
  decimals?: number;
  target?: Target;
}

export const notAvailable = (why: string, show = "n/a"): NotAvailable => ({ na: why, show });

const HEADERS = ["scenario", "metric", "jetstream-jobs", "BullMQ", "ours / BullMQ", "target"];

function value(v: number[] | NotAvailable | undefined): number | undefined {
  return v === undefined || !Array.isArray(v) ? undefined : median(v);
}

function cell(v: number[] | NotAvailable | undefined, decimals: number): string {
  if (v === undefined) return "";
  if (!Array.isArray(v)) return v.show;
  const m = median(v);
  return Number.isFinite(m) ? m.toFixed(decimals) : "n/a";
}

function targetCell(row: Row): string {
  if (row.target === undefined) return "";
  const ours = value(row.ours);
  const bullmq = value(row.bullmq);
  const missing = (v: number | undefined) => v === undefined || !Number.isFinite(v);
  if (missing(ours) || (row.target.relative && missing(bullmq))) return `${row.target.text}: n/a`;
  return `${row.target.text}: ${row.target.met(ours!, bullmq) ? "met" : "MISSED"}`;
}

/** The table as Markdown, columns padded so it also reads well in a terminal. */
export function formatTable(rows: readonly Row[]): string {
  const lines = rows.map((r) => {
    const d = r.decimals ?? 0;
    const ours = value(r.ours);
    const bullmq = value(r.bullmq);
    const ratio = ours !== undefined && bullmq !== undefined && Number.isFinite(ours) && Number.isFinite(bullmq) && bullmq !== 0 ? `${(ours / bullmq).toFixed(2)}x` : "";
    return [r.scenario, r.metric, cell(r.ours, d), cell(r.bullmq, d), ratio, targetCell(r)];
  });
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i >= 2 && i <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [fmt(HEADERS), rule, ...lines.map(fmt)].join("\n");
}

/** Every run's value, for rows measured more than once (the spread behind each median). */
export function formatRuns(rows: readonly Row[]): string[] {
  const list = (v: number[] | NotAvailable | undefined, d: number) => (Array.isArray(v) ? `[${v.map((x) => x.toFixed(d)).join(", ")}]` : undefined);
  return rows
    .filter((r) => (Array.isArray(r.ours) && r.ours.length > 1) || (Array.isArray(r.bullmq) && r.bullmq.length > 1))
    .map((r) => {
      const d = r.decimals ?? 0;
      const parts = [`ours ${list(r.ours, d) ?? "n/a"}`];
      if (r.bullmq !== undefined) parts.push(`BullMQ ${list(r.bullmq, d) ?? "n/a"}`);
      return `${r.scenario} / ${r.metric}: ${parts.join("; ")}`;
    });
}
