import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

/**
 * Copies a child's output to ours one line at a time with `<name> | ` in front, so the
 * interleaved output of several processes stays readable (as `docker compose up` does).
 * Line-wise copying also keeps two children from splitting each other's lines.
 */
const COLORS = [36, 32, 35, 33, 34, 96, 92, 95, 93, 94];

export function colorFor(index: number): number {
  return COLORS[index % COLORS.length] ?? 36;
}

/** The prefix, coloured only for a terminal that has not asked for no colour. */
export function formatPrefix(name: string, color: number | undefined, target: Writable): string {
  const tty = (target as Writable & { isTTY?: boolean }).isTTY === true;
  const plain = `${name} | `;
  return tty && color !== undefined && !process.env.NO_COLOR ? `\x1b[${color}m${name} |\x1b[0m ` : plain;
}

export function prefixLines(source: Readable, name: string, target: Writable, color?: number): void {
  const prefix = formatPrefix(name, color, target);
  // readline also emits a last line that has no newline when the stream ends.
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  lines.on("line", (line) => target.write(`${prefix}${line}\n`));
}
