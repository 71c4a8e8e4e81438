/**
 * Reads samples out of a Prometheus text exposition, for assertions: the value of the
 * one sample named `name` whose labels are exactly `labels`, or undefined when there is
 * none (a counter that was never incremented for those labels).
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]);
    if (JSON.stringify(got.sort()) === wanted) return Number(m[3]);
  }
  return undefined;
}

/** The HELP text of a metric, or undefined when the exposition does not have it. */
export function helpOf(text: string, name: string): string | undefined {
  return text.split("\n").find((l) => l.startsWith(`# HELP ${name} `))?.slice(`# HELP ${name} `.length);
}
