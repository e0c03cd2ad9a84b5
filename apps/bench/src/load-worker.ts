// Entry point of one load process, forked by the load generator: its own event loop and
// its own HTTP/2 connections, so that several of them can use several cores.
import { LoadRunner } from "./load-runner.js";
import type { ParentMessage, WorkerMessage } from "./worker-messages.js";

/** Sends a message; `last` disconnects once it is written, which ends this process. */
const send = (message: WorkerMessage, last = false): void => {
  process.send?.(message, undefined, {}, () => {
    if (last) process.disconnect?.();
  });
};

const fail = (error: unknown): void => {
  const code =
    typeof error === "object" && error !== null && "code" in error ? String(error.code) : "ERROR";
  send(
    { type: "failed", code, message: error instanceof Error ? error.message : String(error) },
    true,
  );
};

if (!process.send) {
  process.stderr.write("load-worker is started by the load generator, not by hand\n");
  process.exit(2);
}

let runner: LoadRunner | null = null;
process.on("message", (message: ParentMessage) => {
  if (message.type === "init") {
    LoadRunner.connect(message.config).then((r) => {
      runner = r;
      send({ type: "ready" });
    }, fail);
  } else if (message.type === "start") {
    if (!runner) {
      fail(new Error("start before ready"));
      return;
    }
    runner.run().then((result) => {
      send({ type: "result", result }, true);
    }, fail);
  }
});
// The parent going away (it disconnects or dies) ends this process too.
process.on("disconnect", () => process.exit(0));
