import { pino, type Logger } from "pino";

export type { Logger };

/** One pino logger per process; `service` on every line so mixed output stays readable. */
export function createLogger(service: string, level: string): Logger {
  return pino({ level, base: { service, pid: process.pid } });
}
