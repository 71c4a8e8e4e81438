export { loadConfig, ConfigError, CommonEnv } from "./config.ts";
export { createLogger, type Logger } from "./logger.ts";
export { onShutdown } from "./shutdown.ts";
export { sleep } from "./sleep.ts";
export { StartupError, exitOnBadStart } from "./startup.ts";
