import { now } from "./clock.ts";
import type { Durability } from "./durability.ts";
import type { HttpClient } from "./http-client.ts";
import type { OurSystem } from "./our-system.ts";
import { percentile } from "./stats.ts";
import { notAvailable, oursAt, type Row } from "./table.ts";

/**
 * `GET /job/:id` (`gets` ids spread over all of `ids`) and `GET /job?limit=50` (`lists`
 * times), timed one request at a time: what a reader waits with every job in the view.
 * Every job read must be `succeeded` (the run's jobs are done when this is called).
 */
export async function readRows(
  sys: OurSystem,
  client: HttpClient,
  ids: readonly string[],
  o: { gets: number; lists: number },
  scenario: string,
  durability: Durability,
): Promise<Row[]> {
  const byId = await timeSequential(
    o.gets,
    (i) => client.request("GET", `/job/${ids[Math.floor((i * 7919) % ids.length)]!}`), // spread over the whole range of ids
    (body) => {
      if ((JSON.parse(body) as { status: string }).status !== "succeeded") throw new Error(`a job read is not succeeded: ${body.slice(0, 300)}`);
    },
  );
  const rows: Row[] = [
    { scenario, metric: "GET /job/:id p50 (ms)", ...oursAt(durability, [percentile(byId, 50)]), decimals: 2 },
    { scenario, metric: "GET /job/:id p99 (ms)", ...oursAt(durability, [percentile(byId, 99)]), decimals: 2 },
  ];
  if (!sys.listing) {
    const na = notAvailable("GET /job answers 404/405: not built yet");
    rows.push({ scenario, metric: "GET /job?limit=50 p50 (ms)", ...oursAt(durability, na) }, { scenario, metric: "GET /job?limit=50 p99 (ms)", ...oursAt(durability, na) });
    return rows;
  }
  const lists = await timeSequential(o.lists, () => client.request("GET", "/job?limit=50"));
  rows.push(
    { scenario, metric: "GET /job?limit=50 p50 (ms)", ...oursAt(durability, [percentile(lists, 50)]), decimals: 2 },
    { scenario, metric: "GET /job?limit=50 p99 (ms)", ...oursAt(durability, [percentile(lists, 99)]), decimals: 2 },
  );
  return rows;
}

/** Times `count` requests one after another; any answer but 200 (or a body `check` refuses, untimed) stops the run. */
async function timeSequential(count: number, request: (i: number) => Promise<{ status: number; body: string }>, check?: (body: string) => void): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const res = await request(i);
    times.push(now() - t0);
    if (res.status !== 200) throw new Error(`GET answered ${res.status}: ${res.body.slice(0, 300)}`);
    check?.(res.body);
  }
  return times;
}
