export * from "./events.ts";
export { deciderSpec } from "./decider-spec.ts";
