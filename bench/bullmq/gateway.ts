import Fastify from "fastify";
import { Queue, type JobsOptions } from "bullmq";
import { BatchBody, CreateJobBody, jobProblems, type JobBody } from "./job-body.ts";
import { baselineSettings, redisConnection } from "./settings.ts";

/**
 * The BullMQ baseline's gateway: the same `POST /job` (and `POST /job/batch`) as ours,
 * on fastify with bearer auth and the same body validation, storing with `queue.add`
 * (`queue.addBulk`) and answering 202 with the id and Location once Redis has the job.
 */
const settings = baselineSettings();
const queue = new Queue(settings.queueName, { connection: redisConnection(settings) });
const app = Fastify({ logger: false });
const expected = `Bearer ${settings.token}`;

app.addHook("onRequest", async (request, reply) => {
  if (request.url === "/healthz") return;
  if (request.headers.authorization !== expected) return reply.code(401).header("www-authenticate", "Bearer").send({ status: 401 });
});

app.get("/healthz", async () => ({ ok: true }));

const jobOptions = (body: JobBody): JobsOptions => ({
  attempts: body.maxAttempts ?? 3,
  ...(body.runAt === undefined ? {} : { delay: Math.max(0, Date.parse(body.runAt) - Date.now()) }),
});
const jobData = (body: JobBody) => ({ params: body.params ?? {}, meta: body.meta ?? {}, timeoutMs: body.timeoutMs ?? 600_000 });
const view = (id: string | undefined, body: JobBody, createdAt: string) => ({
  id,
  type: body.type,
  status: "queued",
  params: body.params ?? {},
  meta: body.meta ?? {},
  createdAt,
});

app.post<{ Body: JobBody }>("/job", { schema: { body: CreateJobBody } }, async (request, reply) => {
  const problem = jobProblems(request.body);
  if (problem !== null) return reply.code(400).send({ status: 400, detail: problem });
  const job = await queue.add(request.body.type, jobData(request.body), jobOptions(request.body));
  return reply.code(202).header("location", `/job/${job.id}`).send(view(job.id, request.body, new Date(job.timestamp).toISOString()));
});

app.post<{ Body: { jobs: JobBody[] } }>("/job/batch", { schema: { body: BatchBody } }, async (request, reply) => {
  const { jobs } = request.body;
  const problems = jobs.map((j) => (typeof j.type === "string" ? jobProblems(j) : "type must be a string"));
  const valid = jobs.flatMap((j, index) => (problems[index] === null ? [{ j, index }] : []));
  const added = await queue.addBulk(valid.map(({ j }) => ({ name: j.type, data: jobData(j), opts: jobOptions(j) })));
  const items: object[] = jobs.map((_, index) => ({ index, status: 400, error: { detail: problems[index] } }));
  added.forEach((job, i) => {
    const { j, index } = valid[i]!;
    items[index] = { index, status: 202, job: view(job.id, j, new Date(job.timestamp).toISOString()) };
  });
  return reply.code(207).send({ items });
});

const stop = async () => {
  await app.close();
  await queue.close();
  process.exit(0);
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);

await queue.waitUntilReady();
await app.listen({ host: "127.0.0.1", port: settings.port });
console.log("ready");
