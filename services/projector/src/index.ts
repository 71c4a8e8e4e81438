export { startProjector, DEFAULT_PROJECTOR_OPTIONS, type Projector, type ProjectorDeps, type ProjectorOptions, type ProjectorTotals } from "./projector.ts";
export { rebuildView, type RebuildDeps, type RebuildSummary } from "./rebuild.ts";
export { projectJob, type ViewPort, type HistoryPort, type ProjectionOutcome } from "./job-projection.ts";
export { flushBatch, type InboundMessage, type FlushStats } from "./flush.ts";
export { loadProjectorConfig, ProjectorEnv, type ProjectorConfig } from "./config.ts";
