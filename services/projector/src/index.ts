export { startProjector, DEFAULT_PROJECTOR_OPTIONS, type Projector, type ProjectorDeps, type ProjectorOptions, type ProjectorTotals } from "./projector.ts";
export { rebuildView, type RebuildDeps, type RebuildSummary } from "./rebuild.ts";
export type { ViewPort, HistoryPort, IndexPort } from "./ports.ts";
export { flushBatch, type InboundMessage, type FlushStats } from "./flush.ts";
export { loadProjectorConfig, ProjectorEnv, type ProjectorConfig } from "./config.ts";
