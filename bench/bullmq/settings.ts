/**
 * Settings of the BullMQ baseline's processes, from the environment the bench gives them.
 * Both processes read these; nothing else in the baseline reads process.env.
 */
export interface BaselineSettings {
  redisPort: number;
  queueName: string;
  /** Gateway only. */
  port: number;
  token: string;
  /** Worker only: jobs one worker process runs at once (the runners' RUNNER_CONCURRENCY). */
  concurrency: number;
}

export function baselineSettings(env: NodeJS.ProcessEnv = process.env): BaselineSettings {
  const int = (name: string, fallback: number) => {
    const n = Number(env[name] ?? fallback);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${env[name]}`);
    return n;
  };
  return {
    redisPort: int("REDIS_PORT", 6379),
    queueName: env.QUEUE_NAME ?? "bench",
    port: int("PORT", 0),
    token: env.API_TOKEN ?? "bench-token",
    concurrency: int("CONCURRENCY", 8),
  };
}

/** BullMQ's connection options: ioredis, which BullMQ loads itself. */
export const redisConnection = (s: BaselineSettings) => ({ host: "127.0.0.1", port: s.redisPort });
