import { sleep } from "@jobs/service";
import { now } from "./clock.ts";
import { runConcurrently, type HttpClient } from "./http-client.ts";
import { NOOP_JOB } from "./system.ts";

type OnAccepted = (id: string, at: number) => void;

/**
 * Submits `count` jobs with single `POST /job` calls, `concurrency` in flight; each 202
 * is reported with the time it arrived. Anything but 202 stops the run: a job that was
 * not accepted would never complete, and the figures would be wrong.
 */
export async function submitSingles(client: HttpClient, count: number, concurrency: number, onAccepted: OnAccepted, body: object = NOOP_JOB): Promise<void> {
  await runConcurrently(count, concurrency, async () => {
    const res = await client.request("POST", "/job", body);
    const at = now();
    if (res.status !== 202) throw new Error(`POST /job answered ${res.status}: ${res.body.slice(0, 300)}`);
    onAccepted((JSON.parse(res.body) as { id: string }).id, at);
  });
}

interface BatchItem {
  index: number;
  status: number;
  job?: { id: string };
}

/** How long a batch's items may keep being answered 503 before the run stops. */
const RESEND_BUDGET_MS = 300_000;

/**
 * The same through `POST /job/batch`, `batchSize` jobs per request, `concurrency` requests
 * in flight. Items answered 503 ("not stored, send it again") are sent again in the next
 * request of the same worker, as the API tells a client to, after a pause that doubles
 * (0.25 s up to 8 s) while they keep failing; the answer counts them. Any other item
 * but 202, or 503s for more than 5 minutes, stops the run.
 */
export async function submitBatches(
  client: HttpClient,
  count: number,
  batchSize: number,
  concurrency: number,
  onAccepted: OnAccepted,
  body: object = NOOP_JOB,
  onResend?: (items: number, example: string) => void,
): Promise<{ resent: number }> {
  const batches = Math.ceil(count / batchSize);
  let resent = 0;
  await runConcurrently(batches, concurrency, async (i) => {
    let n = Math.min(batchSize, count - i * batchSize);
    const started = now();
    let pause = 250;
    let last503 = "";
    for (let attempt = 1; n > 0; attempt++) {
      if (attempt > 1) {
        if (now() - started > RESEND_BUDGET_MS) throw new Error(`POST /job/batch: ${n} items still answered 503 after ${attempt - 1} attempts in ${RESEND_BUDGET_MS / 1000} s; the last: ${last503}`);
        await sleep(pause);
        pause = Math.min(pause * 2, 8000);
      }
      const res = await client.request("POST", "/job/batch", { jobs: Array.from({ length: n }, () => body) });
      const at = now();
      if (res.status !== 207) throw new Error(`POST /job/batch answered ${res.status}: ${res.body.slice(0, 300)}`);
      let again = 0;
      for (const item of (JSON.parse(res.body) as { items: BatchItem[] }).items) {
        if (item.status === 503) {
          again++;
          last503 = JSON.stringify(item).slice(0, 300);
        } else if (item.status !== 202 || item.job === undefined) throw new Error(`batch item ${item.index} answered ${item.status}: ${JSON.stringify(item).slice(0, 300)}`);
        else onAccepted(item.job.id, at);
      }
      if (again > 0) onResend?.(again, last503);
      resent += again;
      n = again;
    }
  });
  return { resent };
}
