/**
 * What one batch costs on the receiving side of a RaftService.Stream call, by stream
 * path: connect-node's gRPC server (async-iterable handler, protobuf-es), a bare
 * node:http2 handler with protobuf-es, and a bare node:http2 handler with this package's
 * hand-written codec. The sender writes one frame per batch (no coalescing) with at most
 * 32 unacknowledged, so the numbers are per call-path traversal. This is the measurement
 * behind docs/adr (transport on node:http2). Run:
 * `pnpm --filter @raftkv/transport-connect exec tsx src/bench/stream-path.bench.ts`.
 */
import { fork } from "node:child_process";
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type ConnectRouter, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createGrpcTransport } from "@connectrpc/connect-node";
import {
  InstallSnapshotResponseSchema,
  MessageType,
  RaftService,
  type StreamRequest,
  StreamRequestSchema,
  StreamResponseSchema,
} from "@raftkv/proto/raft";
import { MessageType as CoreType, EntryType, type Message } from "@raftkv/raft-core";
import { FrameDecoder, frameMessage } from "../grpc-frame.js";
import {
  decodeStreamRequest,
  encodeBatchAddress,
  encodeStreamRequestFrame,
  encodeStreamResponseFrame,
  messageSize,
} from "../message-codec.js";

type Mode = "connect" | "http2+protobuf-es" | "http2+hand-codec";
const BATCHES = Number(process.env.BATCHES ?? 20_000);
const WINDOW = 32;
const [, , roleArg, modeArg] = process.argv;

function wireBatch(seq: number, per: number): StreamRequest {
  const messages = Array.from({ length: per }, (_, i) => ({
    type: MessageType.APPEND,
    to: 2n,
    from: 1n,
    term: 5n,
    logTerm: 5n,
    index: BigInt(seq * per + i),
    commit: BigInt(seq),
    entries: [{ term: 5n, index: BigInt(seq * per + i + 1), data: new Uint8Array(256) }],
  }));
  return create(StreamRequestSchema, { batch: { clusterId: 7n, from: 1n, to: 2n, messages } });
}

function coreBatch(seq: number, per: number): Message[] {
  return Array.from({ length: per }, (_, i) => ({
    type: CoreType.Append,
    to: 2,
    from: 1,
    term: 5,
    logTerm: 5,
    index: seq * per + i,
    commit: seq,
    entries: [
      { term: 5, index: seq * per + i + 1, type: EntryType.Normal, data: new Uint8Array(256) },
    ],
    reject: false,
    rejectHint: 0,
  }));
}

if (roleArg === "server") {
  const mode = modeArg as Mode;
  let received = 0;
  let messages = 0;
  let cpu0: NodeJS.CpuUsage | undefined;
  const onBatch = (count: number) => {
    cpu0 ??= process.cpuUsage();
    received++;
    messages += count;
    if (received === BATCHES) {
      const c = process.cpuUsage(cpu0);
      process.send?.({ done: true, micros: c.user + c.system, messages });
    }
  };
  let server: http2.Http2Server;
  if (mode === "connect") {
    const routes = (router: ConnectRouter) =>
      router.service(RaftService, {
        async *stream(requests) {
          let n = 0;
          for await (const r of requests) {
            onBatch(r.batch?.messages.length ?? 0);
            if (++n % 8 === 0) yield create(StreamResponseSchema, { batchesReceived: BigInt(n) });
          }
        },
        async installSnapshot() {
          return create(InstallSnapshotResponseSchema, {});
        },
      });
    server = http2.createServer(
      connectNodeAdapter({ routes, grpc: true, connect: false, grpcWeb: false }),
    );
  } else {
    server = http2.createServer();
    server.on("stream", (stream) => {
      stream.respond({ ":status": 200, "content-type": "application/grpc" });
      const decoder = new FrameDecoder(16 << 20);
      let n = 0;
      stream.on("data", (chunk: Buffer) => {
        const frames = decoder.push(chunk);
        for (const f of frames) {
          const count =
            mode === "http2+protobuf-es"
              ? (fromBinary(StreamRequestSchema, f).batch?.messages.length ?? 0)
              : decodeStreamRequest(f).messages.length;
          n++;
          onBatch(count);
        }
        if (frames.length > 0) {
          stream.write(
            mode === "http2+protobuf-es"
              ? frameMessage(
                  toBinary(
                    StreamResponseSchema,
                    create(StreamResponseSchema, { batchesReceived: BigInt(n) }),
                  ),
                )
              : encodeStreamResponseFrame(n),
          );
        }
      });
    });
  }
  server.listen(0, "127.0.0.1", () =>
    process.send?.({ port: (server.address() as { port: number }).port }),
  );
} else {
  const rows: string[] = [];
  for (const per of [1, 16]) {
    for (const mode of ["connect", "http2+protobuf-es", "http2+hand-codec"] as Mode[]) {
      const child = fork(new URL(import.meta.url), ["server", mode, String(per)], {
        execArgv: ["--import", "tsx"],
      });
      const port = await new Promise<number>((r) =>
        child.once("message", (m: { port: number }) => r(m.port)),
      );
      const done = new Promise<{ micros: number; messages: number }>((r) =>
        child.on("message", (m: { done?: boolean; micros: number; messages: number }) => {
          if (m.done) r(m);
        }),
      );
      let acked = 0;
      let wake: (() => void) | undefined;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      if (mode === "connect") {
        const wire = Array.from({ length: 64 }, (_, i) => wireBatch(i, per));
        const client = createClient(
          RaftService,
          createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` }),
        );
        async function* requests() {
          for (let i = 0; i < BATCHES; i++) {
            while (i - acked > WINDOW) await new Promise<void>((r) => (wake = r));
            yield wire[i % 64]!;
          }
        }
        void (async () => {
          for await (const r of client.stream(requests())) {
            acked = Number(r.batchesReceived);
            wake?.();
          }
        })().catch(() => {});
      } else {
        const session = http2.connect(`http://127.0.0.1:${port}`);
        const req = session.request({
          ":method": "POST",
          ":path": "/raftkv.raft.v1.RaftService/Stream",
          "content-type": "application/grpc",
          te: "trailers",
        });
        const decoder = new FrameDecoder(1 << 20);
        req.on("data", (chunk: Buffer) => {
          for (const f of decoder.push(chunk))
            acked = Number(fromBinary(StreamResponseSchema, f).batchesReceived);
          wake?.();
        });
        const address = encodeBatchAddress({ clusterId: 7n, from: 1, to: 2 });
        const wire = Array.from({ length: 64 }, (_, i) => wireBatch(i, per));
        const core = Array.from({ length: 64 }, (_, i) => coreBatch(i, per));
        for (let i = 0; i < BATCHES; i++) {
          while (i - acked > WINDOW) await new Promise<void>((r) => (wake = r));
          if (mode === "http2+protobuf-es")
            req.write(frameMessage(toBinary(StreamRequestSchema, wire[i % 64]!)));
          else {
            const ms = core[i % 64]!;
            req.write(encodeStreamRequestFrame(address, ms, ms.map(messageSize)));
          }
        }
      }
      const result = await done;
      const seconds = (performance.now() - t0) / 1000;
      const client = process.cpuUsage(c0);
      rows.push(
        `| ${mode} | ${per} | ${Math.round(BATCHES / seconds)} | ${(result.micros / BATCHES).toFixed(1)} | ${(result.micros / result.messages).toFixed(2)} | ${((client.user + client.system) / BATCHES).toFixed(1)} |`,
      );
      child.kill();
    }
  }
  console.log(
    "| stream path | messages per batch | batches/s | receiver CPU µs/batch | receiver CPU µs/msg | sender CPU µs/batch |",
  );
  console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
  for (const row of rows) console.log(row);
  process.exit(0);
}
