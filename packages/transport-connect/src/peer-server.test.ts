import { connect as connectHttp2 } from "node:http2";
import { connect as connectTcp } from "node:net";
import { create, toBinary } from "@bufbuild/protobuf";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import {
  RaftService,
  StreamRequestSchema,
  MessageType as WireMessageType,
} from "@raftkv/proto/raft";
import { MessageType } from "@raftkv/raft-core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrpcStatus } from "./grpc-status.js";
import { encodeBatchAddress, encodeStreamRequestFrame, messageSize } from "./message-codec.js";
import { createPeerTransport, type PeerTransport } from "./peer-transport.js";
import { heartbeat } from "./test-support/messages.js";
import { frameMessage, rawGrpcCall } from "./test-support/raw-grpc.js";
import { eventually, RecordingHandler } from "./test-support/recording-handler.js";

const CLUSTER = 77n;
const STREAM = "/raftkv.raft.v1.RaftService/Stream";

interface LogLine {
  level: string;
  fields: Record<string, unknown>;
  message: string;
}

let node: PeerTransport;
let handler: RecordingHandler;
let url: string;
let logs: LogLine[];

beforeEach(async () => {
  logs = [];
  const record = (level: string) => (fields: Record<string, unknown>, message: string) =>
    logs.push({ level, fields, message });
  node = createPeerTransport({
    id: 1,
    clusterId: CLUSTER,
    listen: ["http://127.0.0.1:0"],
    peers: [{ id: 2, urls: ["http://127.0.0.1:1"] }],
    maxReceiveMessageBytes: 1024 * 1024,
    logger: {
      debug: record("debug"),
      info: record("info"),
      warn: record("warn"),
      error: record("error"),
    },
  });
  handler = new RecordingHandler();
  await node.start(handler);
  url = node.addresses()[0]!.href;
});

afterEach(async () => {
  await node.close();
});

function batchFrame(clusterId: bigint, from: number, to: number, messages = [heartbeat(from, to)]) {
  return encodeStreamRequestFrame(
    encodeBatchAddress({ clusterId, from, to }),
    messages,
    messages.map(messageSize),
  );
}

/** The node still serves a legitimate member after whatever the test did. */
async function expectStillServing(): Promise<void> {
  const before = handler.messages.length;
  const result = await rawGrpcCall(url, STREAM, [batchFrame(CLUSTER, 2, 1)]);
  expect(result.grpcStatus).toBe(GrpcStatus.OK);
  expect(handler.messages.length).toBe(before + 1);
}

describe("peer server refuses bad input and keeps running", () => {
  it("survives garbage bytes on the TCP port", async () => {
    const socket = connectTcp(Number(new URL(url).port), "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", resolve));
    socket.on("error", () => {});
    const answer: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => answer.push(chunk));
    socket.write(
      Buffer.from("\x16\x03\x01 this is not HTTP/2 at all \x00\xff".repeat(100), "latin1"),
    );
    await expectStillServing();
    // The server answers the bad connection preface with a GOAWAY frame (type 7).
    const frameTypes = () => {
      const bytes = Buffer.concat(answer);
      const types: number[] = [];
      for (let at = 0; at + 9 <= bytes.length; at += 9 + bytes.readUIntBE(at, 3))
        types.push(bytes[at + 3]!);
      return types;
    };
    await eventually(() => frameTypes().includes(7), "a GOAWAY frame");
    socket.destroy();
  });

  it("survives an HTTP/1.1 request", async () => {
    const response = await fetch(url, { method: "POST", body: "hello" }).catch((e: unknown) => e);
    expect(response).toBeDefined();
    await expectStillServing();
  });

  it("refuses a frame over maxReceiveMessageBytes with RESOURCE_EXHAUSTED before buffering it", async () => {
    const prefix = Buffer.from([0, 0x02, 0, 0, 0]); // announces 32 MiB
    const result = await rawGrpcCall(url, STREAM, [prefix, Buffer.alloc(64 * 1024)]);
    expect(result.grpcStatus).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(result.grpcMessage).toMatch(/33554432 bytes exceeds the limit of 1048576/);
    expect(node.stats().rejected.too_large).toBe(1);
    await expectStillServing();
  });

  it("refuses bytes that are not a StreamRequest with INVALID_ARGUMENT", async () => {
    const result = await rawGrpcCall(url, STREAM, [
      frameMessage(Buffer.from([0xff, 0xff, 0xff, 0x07])),
    ]);
    expect(result.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(node.stats().rejected.malformed).toBe(1);
    await expectStillServing();
  });

  it("refuses compressed frames", async () => {
    const frame = batchFrame(CLUSTER, 2, 1);
    frame[0] = 1;
    const result = await rawGrpcCall(url, STREAM, [frame]);
    expect(result.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(result.grpcMessage).toMatch(/compressed/);
  });

  it("refuses a batch of another cluster with FAILED_PRECONDITION, logs it, and delivers nothing", async () => {
    const result = await rawGrpcCall(url, STREAM, [batchFrame(CLUSTER + 1n, 2, 1)]);
    expect(result.grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(result.grpcMessage).toMatch(/cluster id 0x4e does not match/);
    expect(handler.messages).toHaveLength(0);
    expect(node.stats().rejected.cluster_mismatch).toBe(1);
    expect(
      logs.some((l) => l.level === "warn" && l.fields.code === "TRANSPORT_CLUSTER_MISMATCH"),
    ).toBe(true);
    await expectStillServing();
  });

  it("refuses another cluster from the request headers, before any message", async () => {
    const result = await rawGrpcCall(url, STREAM, [], {
      "raftkv-cluster-id": "78",
      "raftkv-from": "2",
      "raftkv-to": "1",
    });
    expect(result.grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);
  });

  it("refuses an unknown member with PERMISSION_DENIED", async () => {
    const result = await rawGrpcCall(url, STREAM, [batchFrame(CLUSTER, 9, 1)]);
    expect(result.grpcStatus).toBe(GrpcStatus.PERMISSION_DENIED);
    expect(result.grpcMessage).toMatch(/member 9 is not a known member/);
    expect(node.stats().rejected.unknown_member).toBe(1);
  });

  it("refuses a batch addressed to another member", async () => {
    const result = await rawGrpcCall(url, STREAM, [batchFrame(CLUSTER, 2, 3)]);
    expect(result.grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(node.stats().rejected.wrong_recipient).toBe(1);
  });

  it("refuses a message whose sender differs from its batch's", async () => {
    const result = await rawGrpcCall(url, STREAM, [batchFrame(CLUSTER, 2, 1, [heartbeat(3, 1)])]);
    expect(result.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(handler.messages).toHaveLength(0);
  });

  it("refuses a stream that ends inside a message", async () => {
    const frame = batchFrame(CLUSTER, 2, 1);
    const result = await rawGrpcCall(url, STREAM, [frame.subarray(0, frame.length - 3)]);
    expect(result.grpcStatus).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it("refuses a member's ninth concurrent message stream with RESOURCE_EXHAUSTED", async () => {
    const session = connectHttp2(url);
    session.on("error", () => {});
    try {
      const open = (): Promise<number | undefined> =>
        new Promise((resolve) => {
          const req = session.request({
            ":method": "POST",
            ":path": STREAM,
            "content-type": "application/grpc",
            te: "trailers",
          });
          req.on("data", () => resolve(undefined)); // an acknowledgement: accepted
          const status = (h: Record<string, unknown>) => {
            if (h["grpc-status"] !== undefined) resolve(Number(h["grpc-status"]));
          };
          req.on("response", status);
          req.on("trailers", status);
          req.on("error", () => {});
          req.write(batchFrame(CLUSTER, 2, 1));
        });
      for (let i = 0; i < 8; i++) expect(await open()).toBeUndefined();
      expect(await open()).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
      expect(node.stats().rejected.too_many_streams).toBe(1);
    } finally {
      session.destroy();
    }
    await expectStillServing();
  });

  it("answers an unknown method with UNIMPLEMENTED", async () => {
    const result = await rawGrpcCall(url, "/raftkv.raft.v1.RaftService/Nope", []);
    expect(result.httpStatus).toBe(200);
    expect(result.grpcStatus).toBe(GrpcStatus.UNIMPLEMENTED);
  });
});

describe("peer server speaks standard gRPC", () => {
  it("serves RaftService.Stream to a Connect gRPC client, acknowledging batches", async () => {
    const client = createClient(RaftService, createGrpcTransport({ baseUrl: url }));
    async function* requests() {
      for (let i = 0; i < 3; i++) {
        yield create(StreamRequestSchema, {
          batch: {
            clusterId: CLUSTER,
            from: 2n,
            to: 1n,
            messages: [
              { type: WireMessageType.HEARTBEAT, from: 2n, to: 1n, term: 4n, commit: BigInt(i) },
            ],
          },
        });
      }
    }
    let lastAck = 0n;
    for await (const response of client.stream(requests())) lastAck = response.batchesReceived;
    expect(lastAck).toBe(3n);
    expect(handler.messages.map((m) => [m.type, m.commit])).toEqual([
      [MessageType.Heartbeat, 0],
      [MessageType.Heartbeat, 1],
      [MessageType.Heartbeat, 2],
    ]);
  });

  it("reports a refusal as a gRPC error a Connect client understands", async () => {
    const client = createClient(RaftService, createGrpcTransport({ baseUrl: url }));
    async function* requests() {
      yield create(StreamRequestSchema, {
        batch: { clusterId: 1n, from: 2n, to: 1n, messages: [] },
      });
    }
    const error = await (async () => {
      for await (const _ of client.stream(requests())) {
        // no acknowledgement is expected
      }
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
  });

  it("decodes protobuf-es encodings of every peer message type", async () => {
    const messages = Array.from({ length: 13 }, (_, i) => ({
      type: i + 1,
      from: 2n,
      to: 1n,
      term: 1n,
    }));
    const body = toBinary(
      StreamRequestSchema,
      create(StreamRequestSchema, { batch: { clusterId: CLUSTER, from: 2n, to: 1n, messages } }),
    );
    const result = await rawGrpcCall(url, STREAM, [frameMessage(Buffer.from(body))]);
    expect(result.grpcStatus).toBe(GrpcStatus.OK);
    expect(handler.messages.map((m) => m.type)).toEqual(messages.map((m) => m.type));
  });
});
