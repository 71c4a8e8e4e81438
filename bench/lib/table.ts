import { DURABILITY, type Durability } from "./durability.ts";
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

/** Every run's value per system at one durability pair. */
export interface Cells {
  ours: number[] | NotAvailable;
  /** Absent: not measured for BullMQ. */
  bullmq?: number[] | NotAvailable;
}

/**
 * One line of the table: every run's value per system and durability pair (the table
 * shows their median). The comparisons fill every pair; the scenarios of our system
 * alone fill the one pair they ran at.
 */
export interface Row {
  scenario: string;
  metric: string;
  by: Partial<Record<Durability, Cells>>;
  decimals?: number;
  /** Judged at each pair that has the row. */
  target?: Target;
}

export const notAvailable = (why: string, show = "n/a"): NotAvailable => ({ na: why, show });

/** The `by` of a row of our system alone, run at `durability`. */
export const oursAt = (durability: Durability, ours: number[] | NotAvailable): Pick<Row, "by"> => ({ by: { [durability]: { ours } } });

function value(v: number[] | NotAvailable | undefined): number | undefined {
  return v === undefined || !Array.isArray(v) ? undefined : median(v);
}

function cell(v: number[] | NotAvailable | undefined, decimals: number): string {
  if (v === undefined) return "";
  if (!Array.isArray(v)) return v.show;
  const m = median(v);
  return Number.isFinite(m) ? m.toFixed(decimals) : "n/a";
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(2)}x` : "";
}

function targetCell(row: Row, durabilities: readonly Durability[]): string {
  const target = row.target;
  if (target === undefined) return "";
  const present = durabilities.filter((d) => row.by[d] !== undefined);
  const verdict = (d: Durability) => {
    const ours = value(row.by[d]!.ours);
    const bullmq = value(row.by[d]!.bullmq);
    const missing = (v: number | undefined) => v === undefined || !Number.isFinite(v);
    if (missing(ours) || (target.relative && missing(bullmq))) return "n/a";
    return target.met(ours!, bullmq) ? "met" : "MISSED";
  };
  if (present.length === 1 && durabilities.length === 1) return `${target.text}: ${verdict(present[0]!)}`;
  return `${target.text}: ${present.map((d) => `${d} ${verdict(d)}`).join(", ")}`;
}

/**
 * The table as Markdown, columns padded so it also reads well in a terminal. The columns:
 * per durability pair that has rows, ours, then BullMQ and the ratio ours / BullMQ when
 * BullMQ was measured at that pair; with both pairs, what fsync-always costs us (ours at
 * `always` / ours at `1s`); the target.
 */
export function formatTable(rows: readonly Row[], durabilities: readonly Durability[]): string {
  const shown = durabilities.filter((d) => rows.some((r) => r.by[d] !== undefined));
  const withBullmq = new Set(shown.filter((d) => rows.some((r) => r.by[d]?.bullmq !== undefined)));
  const both = shown.includes("always") && shown.includes("1s");
  const head = ["scenario", "metric"];
  for (const d of shown) {
    head.push(`jetstream-jobs (${d})`);
    if (withBullmq.has(d)) head.push(`BullMQ (${DURABILITY[d].redisLabel})`, `ours / BullMQ (${d})`);
  }
  if (both) head.push("ours always / 1s");
  head.push("target");
  const lines = rows.map((r) => {
    const d = r.decimals ?? 0;
    const cells = [r.scenario, r.metric];
    for (const du of shown) {
      const c = r.by[du];
      cells.push(cell(c?.ours, d));
      if (withBullmq.has(du)) cells.push(cell(c?.bullmq, d), ratio(value(c?.ours), value(c?.bullmq)));
    }
    if (both) cells.push(ratio(value(r.by.always?.ours), value(r.by["1s"]?.ours)));
    cells.push(targetCell(r, shown));
    return cells;
  });
  const numeric = (i: number) => i >= 2 && i < head.length - 1;
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((c, i) => (numeric(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (numeric(i) ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")}|`;
  return [fmt(head), rule, ...lines.map(fmt)].join("\n");
}

/** Every run's value, for rows measured more than once (the spread behind each median). */
export function formatRuns(rows: readonly Row[], durabilities: readonly Durability[]): string[] {
  const list = (v: number[] | NotAvailable | undefined, d: number) => (Array.isArray(v) ? `[${v.map((x) => x.toFixed(d)).join(", ")}]` : undefined);
  const many = (v: number[] | NotAvailable | undefined) => Array.isArray(v) && v.length > 1;
  return rows
    .filter((r) => durabilities.some((d) => many(r.by[d]?.ours) || many(r.by[d]?.bullmq)))
    .map((r) => {
      const dec = r.decimals ?? 0;
      const pairs = durabilities
        .filter((d) => r.by[d] !== undefined)
        .map((d) => {
          const c = r.by[d]!;
          const parts = [`ours ${list(c.ours, dec) ?? "n/a"}`];
          if (c.bullmq !== undefined) parts.push(`BullMQ ${list(c.bullmq, dec) ?? "n/a"}`);
          return `${d}: ${parts.join(", ")}`;
        });
      return `${r.scenario} / ${r.metric}: ${pairs.join("; ")}`;
    });
}
