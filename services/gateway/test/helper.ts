import { afterEach } from "vitest";
import { buildApp, type App, type AppOptions } from "../src/app.ts";
import { FakeIdempotencyStore, FakeJobStore, FakeJobTypes, FakeReadiness } from "./fakes.ts";

export const TOKEN = "tok-alpha";
export const OTHER_TOKEN = "tok-beta";
export const OPERATOR_TOKEN = "tok-operator";
export const auth = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

export interface TestApp {
  app: App;
  jobs: FakeJobStore;
  idempotency: FakeIdempotencyStore;
  types: FakeJobTypes;
  readiness: FakeReadiness;
}

const open: App[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

/** The gateway on fakes, with two applications ("alpha", "beta") and an operator; closed after each test. */
export async function testApp(opts: AppOptions = {}): Promise<TestApp> {
  const jobs = new FakeJobStore();
  const idempotency = new FakeIdempotencyStore();
  const types = new FakeJobTypes();
  const readiness = new FakeReadiness();
  const tokens = new Map([
    [TOKEN, "alpha"],
    [OTHER_TOKEN, "beta"],
  ]);
  const app = buildApp({ jobs, idempotency, types, readiness, tokens, adminTokens: [OPERATOR_TOKEN] }, opts);
  open.push(app);
  await app.ready();
  return { app, jobs, idempotency, types, readiness };
}

/** Asserts the common shape of an RFC 9457 answer and returns its body. */
export function problemOf(res: { statusCode: number; headers: Record<string, unknown>; json(): unknown }) {
  const body = res.json() as { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[]; knownTypes?: string[] };
  if (!String(res.headers["content-type"]).startsWith("application/problem+json")) {
    throw new Error(`expected application/problem+json, got ${String(res.headers["content-type"])}: ${JSON.stringify(body)}`);
  }
  if (body.status !== res.statusCode) throw new Error(`problem status ${body.status} != HTTP ${res.statusCode}`);
  for (const k of ["type", "title", "detail"] as const) if (typeof body[k] !== "string") throw new Error(`problem lacks ${k}`);
  return body;
}
