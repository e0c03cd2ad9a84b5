/**
 * One member of the 3-process cluster benchmark: a raft-core RaftNode with an in-memory
 * log store (no disk, so consensus and transport are all there is to measure), a state
 * machine that counts, and this package's transport. Driven by cluster.bench.ts over IPC.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import {
  createRaftNode,
  type Entry,
  type SnapshotMetadata,
  type StateMachine,
} from "@raftkv/raft-core";
import { MemoryLogStore } from "@raftkv/raft-core/testing";
import { createPeerTransport } from "../peer-transport.js";

const id = Number(process.argv[2]);

class CountingStateMachine implements StateMachine<number> {
  applied = 0;
  count = 0;
  appliedIndex(): number {
    return 0;
  }
  apply(entries: readonly Entry[]): number[] {
    for (const e of entries) {
      this.applied = e.index;
      if (e.data.length > 0) this.count++;
    }
    return entries.map((e) => e.index);
  }
  async *snapshot(): AsyncIterable<Uint8Array> {
    yield new TextEncoder().encode(String(this.count));
  }
  async restore(meta: SnapshotMetadata, data: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const chunk of data) this.count = Number(new TextDecoder().decode(chunk));
    this.applied = meta.index;
  }
}

const transport = createPeerTransport({ id, clusterId: 42n, listen: ["http://127.0.0.1:0"] });
const sm = new CountingStateMachine();
const node = await createRaftNode({
  id,
  logStore: new MemoryLogStore(),
  transport,
  stateMachine: sm,
  peers: [1, 2, 3],
  tickMs: 50,
  electionTick: 10,
  heartbeatTick: 1,
  snapshotEntries: 0,
  maxInflightMsgs: 256,
});

async function load(seconds: number, outstanding: number, batch: number, bytes: number) {
  const payload = new Uint8Array(bytes).fill(1);
  let committed = 0;
  let inFlight = 0;
  let running = true;
  const deadline = performance.now() + seconds * 1000;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (running && inFlight + batch <= outstanding) {
        inFlight += batch;
        const promises = node.proposeBatch(Array.from({ length: batch }, () => payload));
        void Promise.all(promises).then(
          () => {
            inFlight -= batch;
            committed += batch;
            if (performance.now() > deadline) {
              running = false;
              if (inFlight === 0) resolve();
            } else pump();
          },
          () => {
            inFlight -= batch;
            if (!running && inFlight === 0) resolve();
          },
        );
      }
    };
    pump();
  });
  return committed;
}

// The profile covers only the measured window, not module loading and start-up.
const inspector = new Session();
inspector.connect();

process.on(
  "message",
  async (command: {
    cmd: string;
    peers?: [number, string][];
    seconds?: number;
    outstanding?: number;
    batch?: number;
    bytes?: number;
    file?: string;
  }) => {
    switch (command.cmd) {
      case "profile-start":
        await inspector.post("Profiler.enable");
        await inspector.post("Profiler.setSamplingInterval", { interval: 200 });
        await inspector.post("Profiler.start");
        process.send?.({ cmd: "profile-start" });
        break;
      case "profile-stop": {
        const { profile } = await inspector.post("Profiler.stop");
        writeFileSync(command.file!, JSON.stringify(profile));
        process.send?.({ cmd: "profile-stop" });
        break;
      }
      case "peers":
        for (const [peer, url] of command.peers!) if (peer !== id) transport.addPeer(peer, [url]);
        break;
      case "status":
        process.send?.({ cmd: "status", id, leader: node.isLeader });
        break;
      case "load": {
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const committed = await load(
          command.seconds!,
          command.outstanding!,
          command.batch!,
          command.bytes!,
        );
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        process.send?.({
          cmd: "load",
          committed,
          seconds,
          cpuMicros: cpu.user + cpu.system,
          stats: Object.fromEntries(transport.stats().peers),
        });
        break;
      }
      case "exit":
        await node.close();
        await transport.close();
        process.exit(0);
    }
  },
);
process.send?.({ cmd: "ready", id, url: transport.addresses()[0]!.href });
