import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { crc32c } from "./crc32c.js";
import {
  PeerNotFoundError,
  PeerRejectedError,
  SnapshotTransferError,
  TransportClosedError,
} from "./errors.js";
import { GrpcStatus } from "./grpc-status.js";
import type { PeerTransportOptions } from "./options.js";
import { createPeerTransport } from "./peer-transport.js";
import {
  encodeSnapshotChecksumFrame,
  encodeSnapshotDataHead,
  encodeSnapshotHeaderFrame,
} from "./snapshot-codec.js";
import { snapshotMessage } from "./test-support/messages.js";
import { rawGrpcCall } from "./test-support/raw-grpc.js";
import { eventually, RecordingHandler } from "./test-support/recording-handler.js";
import { TcpProxy } from "./test-support/tcp-proxy.js";

const CLUSTER = 5n;
const MiB = 1024 * 1024;
const INSTALL_SNAPSHOT = "/raftkv.raft.v1.RaftService/InstallSnapshot";

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function member(id: number, options: Partial<PeerTransportOptions> = {}) {
  const transport = createPeerTransport({
    id,
    clusterId: CLUSTER,
    listen: ["http://127.0.0.1:0"],
    ...options,
  });
  cleanup.push(() => transport.close());
  const handler = new RecordingHandler();
  await transport.start(handler);
  return {
    transport,
    handler,
    url: transport.addresses()[0]!.href,
    port: Number(transport.addresses()[0]!.port),
  };
}

/** Deterministic pseudo-random bytes (xorshift32), generated lazily in 1 MiB chunks. */
function* snapshotData(totalBytes: number, seed = 12345): Generator<Uint8Array> {
  let x = seed;
  for (let done = 0; done < totalBytes; done += MiB) {
    const chunk = new Uint8Array(Math.min(MiB, totalBytes - done));
    const words = new Uint32Array(chunk.buffer, 0, chunk.length >>> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    yield chunk;
  }
}

async function* source(totalBytes: number, pulled?: { bytes: number }): AsyncGenerator<Uint8Array> {
  for (const chunk of snapshotData(totalBytes)) {
    if (pulled !== undefined) pulled.bytes += chunk.length;
    yield chunk;
  }
}

function sha256Of(totalBytes: number): string {
  const hash = createHash("sha256");
  for (const chunk of snapshotData(totalBytes)) hash.update(chunk);
  return hash.digest("hex");
}

describe("snapshot streaming", () => {
  it("streams a 50 MB snapshot intact and hands it to Raft once verified", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    await a.transport.sendSnapshot(snapshotMessage(1, 2, 1000), source(50 * MiB));
    expect(b.handler.snapshots).toHaveLength(1);
    expect(b.handler.snapshots[0]).toMatchObject({ bytes: 50 * MiB, sha256: sha256Of(50 * MiB) });
    expect(b.handler.snapshots[0]!.message.snapshot?.index).toBe(1000);
    expect(a.transport.stats().peers.get(2)).toMatchObject({
      snapshotsSent: 1,
      snapshotBytesSent: 50 * MiB,
    });
  });

  it("resumes a 50 MB snapshot broken mid-way where the receiver's data ends", async () => {
    const a = await member(1, { backoff: { initialDelayMs: 20, maxDelayMs: 100 } });
    const b = await member(2);
    const proxy = new TcpProxy(b.port);
    cleanup.push(() => proxy.close());
    const proxyPort = await proxy.start();
    a.transport.addPeer(2, [`http://127.0.0.1:${proxyPort}`]);
    b.transport.addPeer(1, [a.url]);
    const cut = proxy.cutAfterBytes(20 * MiB);
    const sent = a.transport.sendSnapshot(snapshotMessage(1, 2, 7), source(50 * MiB));
    await cut;
    await sent;
    expect(b.handler.snapshots).toHaveLength(1);
    expect(b.handler.snapshots[0]).toMatchObject({ bytes: 50 * MiB, sha256: sha256Of(50 * MiB) });
    expect(a.transport.stats().peers.get(2)!.snapshotResumes).toBe(1);
    expect(b.transport.stats().peers.get(1)!.snapshotResumes).toBe(1);
    // Resumed, not restarted: well under 50 MB crossed the proxy a second time.
    expect(proxy.forwardedBytes).toBeLessThan(75 * MiB);
  });

  it("fails the transfer when the receiver lost what it had (Raft will send a new snapshot)", async () => {
    const a = await member(1, {
      backoff: { initialDelayMs: 50, maxDelayMs: 100 },
      snapshot: { resumeBufferBytes: MiB },
    });
    const b = await member(2, { snapshot: { resumeTimeoutMs: 1 } });
    const proxy = new TcpProxy(b.port);
    cleanup.push(() => proxy.close());
    const proxyPort = await proxy.start();
    a.transport.addPeer(2, [`http://127.0.0.1:${proxyPort}`]);
    b.transport.addPeer(1, [a.url]);
    const cut = proxy.cutAfterBytes(20 * MiB);
    const sent = a.transport.sendSnapshot(snapshotMessage(1, 2, 7), source(50 * MiB));
    await cut;
    const error = await sent.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotTransferError);
    expect((error as Error).message).toMatch(/cannot resume/);
    expect(b.handler.snapshots).toHaveLength(0);
    expect(a.transport.stats().peers.get(2)!.snapshotsFailed).toBe(1);
  });

  it("reads the source only as fast as the receiver takes the data (back-pressure)", async () => {
    const a = await member(1);
    const b = await member(2);
    const proxy = new TcpProxy(b.port);
    cleanup.push(() => proxy.close());
    const proxyPort = await proxy.start();
    a.transport.addPeer(2, [`http://127.0.0.1:${proxyPort}`]);
    b.transport.addPeer(1, [a.url]);
    proxy.hold(true);
    const pulled = { bytes: 0 };
    const sent = a.transport.sendSnapshot(snapshotMessage(1, 2, 7), source(1024 * MiB, pulled));
    const settled = sent.catch((e: unknown) => e);
    // Once the buffers between the two members are full, reading stops.
    let previous = -1;
    await eventually(() => {
      const stable = pulled.bytes === previous && pulled.bytes > 0;
      previous = pulled.bytes;
      return stable;
    }, "reading to stop");
    expect(pulled.bytes).toBeLessThan(64 * MiB);
    await a.transport.close();
    expect(await settled).toBeInstanceOf(TransportClosedError);
  });

  it("fails a transfer in flight with PeerNotFoundError when the peer is removed", async () => {
    const a = await member(1);
    const b = await member(2);
    const proxy = new TcpProxy(b.port);
    cleanup.push(() => proxy.close());
    const proxyPort = await proxy.start();
    a.transport.addPeer(2, [`http://127.0.0.1:${proxyPort}`]);
    b.transport.addPeer(1, [a.url]);
    proxy.hold(true);
    const pulled = { bytes: 0 };
    const settled = a.transport
      .sendSnapshot(snapshotMessage(1, 2, 7), source(1024 * MiB, pulled))
      .catch((e: unknown) => e);
    await eventually(() => pulled.bytes > 0, "the transfer to start");
    a.transport.removePeer(2);
    expect(await settled).toBeInstanceOf(PeerNotFoundError);
  });

  it("refuses data whose checksum does not match, and never hands it to Raft", async () => {
    const b = await member(2, { peers: [{ id: 1, urls: ["http://127.0.0.1:1"] }] });
    const data = Buffer.from("snapshot bytes");
    const result = await rawGrpcCall(b.url, INSTALL_SNAPSHOT, [
      encodeSnapshotHeaderFrame({
        clusterId: CLUSTER,
        from: 1,
        to: 2,
        message: snapshotMessage(1, 2, 3),
        totalBytes: data.length,
        offset: 0,
        probe: false,
      }),
      encodeSnapshotDataHead(data.length),
      data,
      encodeSnapshotChecksumFrame(crc32c(data) ^ 1),
    ]);
    expect(result.grpcStatus).toBe(GrpcStatus.DATA_LOSS);
    expect(result.grpcMessage).toMatch(/checksum mismatch/);
    expect(b.handler.snapshots).toHaveLength(0);
  });

  it("refuses a snapshot from another cluster", async () => {
    const b = await member(2, { peers: [{ id: 1, urls: ["http://127.0.0.1:1"] }] });
    const result = await rawGrpcCall(b.url, INSTALL_SNAPSHOT, [
      encodeSnapshotHeaderFrame({
        clusterId: CLUSTER + 1n,
        from: 1,
        to: 2,
        message: snapshotMessage(1, 2, 3),
        totalBytes: 0,
        offset: 0,
        probe: false,
      }),
    ]);
    expect(result.grpcStatus).toBe(GrpcStatus.FAILED_PRECONDITION);
    expect(b.transport.stats().rejected.cluster_mismatch).toBe(1);
  });

  it("rejects sendSnapshot when the receiver's Raft node does not take the snapshot in", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    b.handler.rejectSnapshotsWith = new Error("restore failed: disk full");
    const error = await a.transport
      .sendSnapshot(snapshotMessage(1, 2, 9), source(3 * MiB))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SnapshotTransferError);
    expect((error as Error).cause).toBeInstanceOf(PeerRejectedError);
    expect(((error as Error).cause as PeerRejectedError).grpcStatus).toBe(GrpcStatus.ABORTED);
    expect((error as Error).message).toMatch(/disk full/);
  });

  it("rejects a snapshot to a member it does not know", async () => {
    const a = await member(1);
    await expect(
      a.transport.sendSnapshot(snapshotMessage(1, 9, 1), source(10)),
    ).rejects.toBeInstanceOf(PeerNotFoundError);
  });
});
