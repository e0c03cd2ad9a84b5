/**
 * Transport benchmark between two processes on loopback: throughput of append/response
 * traffic (messages/s, MB/s of entry data, CPU per message and per batch on each side)
 * and the latency a hop adds at low load, against a bare TCP echo between the same
 * processes. Run: `pnpm --filter @raftkv/transport-connect bench` (BENCH_SECONDS=n to
 * change the measuring time per case, default 4).
 */
import { type ChildProcess, fork } from "node:child_process";
import { connect } from "node:net";
import { EntryType, type Message, MessageType } from "@raftkv/raft-core";
import { createPeerTransport } from "../peer-transport.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

function request<T>(child: ChildProcess, cmd: string, extra: object = {}): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (m: { cmd: string }) => {
      if (m.cmd !== cmd) return;
      child.off("message", onMessage);
      resolve(m as T);
    };
    child.on("message", onMessage);
    child.send({ cmd, ...extra });
  });
}

const child = fork(new URL("./echo-peer.ts", import.meta.url), [], {
  execArgv: ["--import", "tsx"],
});
const { url: peerUrl } = await new Promise<{ url: string }>((resolve) =>
  child.once("message", (m: { url: string }) => resolve(m)),
);

let onResponse: (m: Message) => void = () => {};
const transport = createPeerTransport({
  id: 1,
  clusterId: 1n,
  listen: ["http://127.0.0.1:0"],
  peers: [{ id: 2, urls: [peerUrl] }],
});
await transport.start({
  onMessages(messages) {
    for (const m of messages) onResponse(m);
  },
  async onSnapshot() {},
});
await request(child, "peer", { url: transport.addresses()[0]!.href });

function appendMessage(
  index: number,
  entries: number,
  entryBytes: number,
  payload: Uint8Array,
): Message {
  return {
    type: MessageType.Append,
    from: 1,
    to: 2,
    term: 1,
    logTerm: 1,
    index,
    commit: index,
    entries: Array.from({ length: entries }, (_, i) => ({
      term: 1,
      index: index + i + 1,
      type: EntryType.Normal,
      data: payload.subarray(0, entryBytes),
    })),
    reject: false,
    rejectHint: 0,
  };
}

interface ThroughputResult {
  name: string;
  messagesPerSec: number;
  entriesPerSec: number;
  mbPerSec: number;
  batchesPerSec: number;
  senderUsPerMessage: number;
  senderUsPerBatch: number;
  receiverUsPerMessage: number;
  drops: number;
}

/**
 * Closed loop like a leader with flow control: at most `window` appends unanswered,
 * sent in groups of `group` (one Ready's worth), each carrying `entries` entries.
 */
async function throughput(
  name: string,
  entries: number,
  entryBytes: number,
  group: number,
  window: number,
) {
  const payload = new Uint8Array(entryBytes).fill(7);
  let nextIndex = 0;
  let answered = 0;
  let sentMessages = 0;
  let running = true;
  let pump: () => void = () => {};
  onResponse = (m) => {
    if (m.type === MessageType.AppendResponse) {
      answered++;
      pump();
    }
  };
  let scheduled = false;
  pump = () => {
    if (scheduled || !running) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      while (running && sentMessages - answered + group <= window) {
        const batch: Message[] = [];
        for (let i = 0; i < group; i++) {
          batch.push(appendMessage(nextIndex, entries, entryBytes, payload));
          nextIndex += entries;
        }
        sentMessages += group;
        transport.send(batch);
      }
    });
  };
  pump();
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const stats0 = transport.stats().peers.get(2)!;
  const answered0 = answered;
  const cpu0 = process.cpuUsage();
  const childCpu0 = (await request<{ micros: number }>(child, "cpu")).micros;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const childCpu = (await request<{ micros: number }>(child, "cpu")).micros - childCpu0;
  const stats = transport.stats().peers.get(2)!;
  running = false;
  await new Promise((r) => setTimeout(r, 300));
  const messages = answered - answered0;
  const batches = stats.sentBatches - stats0.sentBatches;
  const result: ThroughputResult = {
    name,
    messagesPerSec: Math.round(messages / elapsed),
    entriesPerSec: Math.round((messages * entries) / elapsed),
    mbPerSec: +((messages * entries * entryBytes) / elapsed / 1e6).toFixed(1),
    batchesPerSec: Math.round(batches / elapsed),
    senderUsPerMessage: +((cpu.user + cpu.system) / messages).toFixed(2),
    senderUsPerBatch: +((cpu.user + cpu.system) / batches).toFixed(1),
    receiverUsPerMessage: +(childCpu / messages).toFixed(2),
    drops:
      stats.dropped.queue_full +
      stats.dropped.unreachable -
      stats0.dropped.queue_full -
      stats0.dropped.unreachable,
  };
  return result;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

/** One heartbeat at a time, answered by the peer: the round trip through both transports. */
async function transportRoundTrips(count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      onResponse = (m) => {
        if (m.type === MessageType.HeartbeatResponse && m.commit === i) resolve();
      };
      transport.send([
        {
          type: MessageType.Heartbeat,
          from: 1,
          to: 2,
          term: 1,
          logTerm: 0,
          index: 0,
          commit: i,
          entries: [],
          reject: false,
          rejectHint: 0,
        },
      ]);
    });
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

/** The same ping-pong over a bare TCP socket to an echo server in the same child process. */
async function tcpRoundTrips(count: number): Promise<number[]> {
  const { port } = await request<{ port: number }>(child, "tcp-echo");
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  await new Promise((r) => socket.once("connect", r));
  const ping = Buffer.alloc(40, 1);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve) => {
      let got = 0;
      const onData = (chunk: Buffer) => {
        got += chunk.length;
        if (got >= ping.length) {
          socket.off("data", onData);
          resolve();
        }
      };
      socket.on("data", onData);
      socket.write(ping);
    });
    times.push(performance.now() - t0);
  }
  socket.destroy();
  return times.sort((a, b) => a - b);
}

const results = [
  await throughput("appends of 1 × 256 B entry, Ready groups of 64", 1, 256, 64, 2048),
  await throughput("appends of 1 × 256 B entry, Ready groups of 8", 1, 256, 8, 512),
  await throughput("appends of 64 × 256 B entries (16 KiB), groups of 4", 64, 256, 4, 256),
];
await transportRoundTrips(500); // warm-up
const ours = await transportRoundTrips(3000);
await tcpRoundTrips(500);
const tcp = await tcpRoundTrips(3000);

console.log(
  "\n| case | msgs/s | entries/s | MB/s (entry data) | batches/s | sender CPU µs/msg | sender CPU µs/batch | receiver CPU µs/msg | drops |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.name} | ${r.messagesPerSec} | ${r.entriesPerSec} | ${r.mbPerSec} | ${r.batchesPerSec} | ${r.senderUsPerMessage} | ${r.senderUsPerBatch} | ${r.receiverUsPerMessage} | ${r.drops} |`,
  );
}
const fmt = (ms: number) => `${Math.round(ms * 1000)} µs`;
console.log("\n| round trip at low load (1 outstanding) | p50 | p90 | p99 |");
console.log("| --- | ---: | ---: | ---: |");
console.log(
  `| heartbeat → response through both transports | ${fmt(percentile(ours, 0.5))} | ${fmt(percentile(ours, 0.9))} | ${fmt(percentile(ours, 0.99))} |`,
);
console.log(
  `| bare TCP echo between the same processes | ${fmt(percentile(tcp, 0.5))} | ${fmt(percentile(tcp, 0.9))} | ${fmt(percentile(tcp, 0.99))} |`,
);
console.log(
  `\nAdded latency per hop (p50): ${fmt((percentile(ours, 0.5) - percentile(tcp, 0.5)) / 2)} ` +
    `(one hop = half a round trip; the difference to bare TCP is what the transport adds).`,
);
const exited = new Promise((resolve) => child.once("exit", resolve));
child.send({ cmd: "exit" });
await exited;
await transport.close();
process.exit(0);
