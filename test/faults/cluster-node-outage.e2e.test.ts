import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { sleep } from "@jobs/service";
import { contractCheckedApi, expectNodeCaughtUp, pollAccepted, replicaStateOf, startFlow, streamLeader } from "../support/cluster.ts";
import { eventually } from "../support/eventually.ts";
import { startClusterFaultStack, type ClusterFaultStack } from "../support/fault-stack.ts";
import { allJobHistories, expectOneEndingEach, ranTwice } from "../support/job-history.ts";
import { waitForFinal } from "../support/job-traffic.ts";
import { expectViewsMatchRebuild, rebuildAfterCatchUp } from "../support/view-check.ts";

/**
 * One server of three (the stream's leader) is stopped (SIGTERM) for 30 s while jobs
 * flow, then started again on its store. With JOBS_REPLICAS=3 the other two carry on:
 * jobs keep being accepted and the gateway stays ready. The returning server catches up
 * (every stream and consumer shows it current again), nothing is lost (every accepted
 * job succeeds, each key made one job, each job ended once), and the views equal a
 * rebuild from the stream.
 */
const DOWN_MS = 30_000;
let f: ClusterFaultStack;

beforeAll(async () => {
  f = await startClusterFaultStack({ label: "node", types: ["sum", "sleep"], runnerIds: ["no-a", "no-b"] });
}, 60_000);

afterAll(async () => {
  await f?.dispose();
});

describe("one server of three down for 30 s while jobs flow", () => {
  it("keeps taking jobs, and the server catches up when it returns; nothing is lost", async () => {
    const checked = contractCheckedApi(f.api);
    const poller = pollAccepted(checked, 2);
    const bodyOf = (i: number) => (i % 2 === 0 ? { type: "sum", params: { a: i, b: 1 } } : { type: "sleep", params: { ms: i % 20 } });
    const flow = startFlow(checked.api, { concurrency: 4, pauseMs: 150, keyPrefix: "node", bodyOf });
    await eventually(() => expect(flow.accepted()).toBeGreaterThanOrEqual(50), { timeoutMs: 15_000, intervalMs: 100 });

    const node = await streamLeader(f.nc, f.cluster, f.names.stream);
    // Short requests that retry through the election; no API check, which would wait for it.
    const jsmShort = await jetstreamManager(f.nc, { timeout: 2_000, checkAPI: false });
    await node.stop("SIGTERM");
    const stoppedAt = Date.now();
    const acceptedAtStop = flow.accepted();
    // The last sequence once another server leads: the jobs requested up to here may have
    // been in a runner's hands while the leaders changed.
    const seqAtTakeover = await eventually(async () => {
      const info = await jsmShort.streams.info(f.names.stream);
      expect(info.cluster?.leader).toBeTruthy();
      expect(info.cluster?.leader).not.toBe(node.name);
      return info.state.last_seq;
    }, { timeoutMs: 20_000, intervalMs: 100 });

    // Down: another server leads, the gateway is ready again within moments and stays so,
    // and jobs keep being accepted.
    await eventually(
      async () => {
        const res = await fetch(`${f.stack.baseUrl}/readyz`);
        expect(res.status, await res.text()).toBe(200);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const readyAgainMs = Date.now() - stoppedAt;
    let notReady = 0;
    let samples = 0;
    while (Date.now() - stoppedAt < DOWN_MS) {
      samples++;
      if ((await fetch(`${f.stack.baseUrl}/readyz`)).status !== 200) notReady++;
      expect(f.unexpectedExits(), f.logs()).toEqual([]);
      await sleep(250); // the sampling pace over the outage
    }
    const acceptedWhileDown = flow.accepted() - acceptedAtStop;
    expect(acceptedWhileDown, checked.statuses()).toBeGreaterThan(100);
    expect(notReady, `/readyz answered 503 ${notReady} of ${samples} times with one server down`).toBe(0);
    expect((await streamLeader(f.nc, f.cluster, f.names.stream)).name).not.toBe(node.name);

    // Back on its store, while jobs still flow: it catches up on every stream and consumer.
    await node.restart();
    const restartedAt = Date.now();
    await expectNodeCaughtUp(f.nc, f.names, node.name, 30_000);
    const caughtUpMs = Date.now() - restartedAt;

    const flowed = await flow.stop();
    expect(flowed.filter((o) => o.job.id === undefined).map((o) => o.job), f.logs()).toEqual([]);
    const ids = flowed.map((o) => o.job.id!);
    expect(new Set(ids).size).toBe(ids.length);
    const finals = await waitForFinal(checked.api, ids, { timeoutMs: 45_000, logs: f.logs });
    flowed.forEach(({ body, job }) => {
      const b = body as { type: string; params: { a?: number; b?: number; ms?: number } };
      expect(finals.get(job.id!), job.id).toMatchObject({ status: "succeeded", result: b.type === "sum" ? { value: b.params.a! + b.params.b! } : { ms: b.params.ms } });
    });
    const polls = await poller.stop();
    expect(polls).toBeGreaterThan(0);
    expect(checked.violations, checked.statuses()).toEqual([]);

    // Still caught up with all the writes since (every replica current, no lag).
    await expectNodeCaughtUp(f.nc, f.names, node.name, 30_000);
    const jsm = await jetstreamManager(f.nc);
    const { state } = await jsm.streams.info(f.names.stream);
    const states = await replicaStateOf(jsm, f.names, node.name);

    // Nothing lost or doubled: the stream holds exactly the accepted jobs, each ended once.
    const histories = await allJobHistories(f.nc, f.names);
    expect(new Set(histories.keys())).toEqual(new Set(ids));
    // Each ended once. A leader that steps down may leave a delivery its replicas had
    // not recorded, handed out again by the next leader while the first runner still
    // runs the job (first outcome wins, the other attempt stores none): allowed once to
    // a job requested before the takeover, never to a later one (the return of the
    // stopped server moves no leader).
    expectOneEndingEach(histories, {
      lost: { fault: `the SIGTERM of stream leader ${node.name}`, explains: (_, id) => histories.get(id)![0]!.seq <= seqAtTakeover, maxPerJob: 1 },
    });
    // The views equal a fold of the stream.
    const summary = await rebuildAfterCatchUp(f.nc, f.names, f.logs);
    expectViewsMatchRebuild(summary);
    expect(summary.jobs).toBe(ids.length);
    expect(f.unexpectedExits(), f.logs()).toEqual([]);
    console.log(
      `${node.name} (the stream leader) down ${DOWN_MS / 1000} s: ready again after ${(readyAgainMs / 1000).toFixed(1)} s, ${acceptedWhileDown} jobs accepted while it was down; ` +
        `${ranTwice(histories)} jobs started a second attempt; caught up ${(caughtUpMs / 1000).toFixed(1)} s after its restart (stream at seq ${state.last_seq}; ${JSON.stringify(states)}); ${ids.length} jobs; ${polls} GETs while it ran; answers ${checked.statuses()}`,
    );
  }, 120_000);
});
