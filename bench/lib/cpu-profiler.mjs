// Preloaded into our services by `pnpm bench -- --cpu-prof=DIR` (NODE_OPTIONS=--import this
// file; node refuses --cpu-prof in NODE_OPTIONS): samples the process with the inspector's
// profiler and writes DIR/<service>-<pid>.cpuprofile when it exits (open it in Chrome
// DevTools or speedscope). Plain JavaScript: it loads before the TypeScript does.
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { basename, dirname, join } from "node:path";

const dir = process.env.BENCH_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post("Profiler.enable");
  session.post("Profiler.setSamplingInterval", { interval: 500 });
  session.post("Profiler.start");
  // services/<name>/src/main.ts -> <name>
  const name = basename(dirname(dirname(process.argv[1] ?? "node"))) || "node";
  process.on("exit", () => {
    // A session in the process's own thread answers synchronously, so this runs before the exit.
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(join(dir, `${name}-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
