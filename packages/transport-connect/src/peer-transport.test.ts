import { MessageType } from "@raftkv/raft-core";
import { afterEach, describe, expect, it } from "vitest";
import type { PeerTransportOptions } from "./options.js";
import { createPeerTransport, type PeerTransport } from "./peer-transport.js";
import { append, heartbeat } from "./test-support/messages.js";
import { eventually, RecordingHandler } from "./test-support/recording-handler.js";
import { TcpProxy } from "./test-support/tcp-proxy.js";

const CLUSTER = 0xc1a5n;

const open: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function member(
  id: number,
  options: Partial<PeerTransportOptions> = {},
): Promise<{ transport: PeerTransport; handler: RecordingHandler; url: string }> {
  const transport = createPeerTransport({
    id,
    clusterId: CLUSTER,
    listen: ["http://127.0.0.1:0"],
    ...options,
  });
  open.push(transport);
  const handler = new RecordingHandler();
  await transport.start(handler);
  return { transport, handler, url: transport.addresses()[0]!.href };
}

describe("PeerTransport", () => {
  it("delivers messages both ways between two members", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2, 5), append(1, 2, 10, 3)]);
    b.transport.send([heartbeat(2, 1, 7)]);
    await b.handler.until(() => b.handler.messages.length === 2, "b to receive 2 messages");
    await a.handler.until(() => a.handler.messages.length === 1, "a to receive 1 message");
    expect(b.handler.messages.map((m) => m.type).sort()).toEqual([
      MessageType.Append,
      MessageType.Heartbeat,
    ]);
    expect(b.handler.messages.find((m) => m.type === MessageType.Append)?.entries).toHaveLength(3);
    expect(a.handler.messages[0]).toMatchObject({
      type: MessageType.Heartbeat,
      from: 2,
      to: 1,
      commit: 7,
    });
    await eventually(
      () => a.transport.stats().peers.get(2)?.lastRoundTripMs !== undefined,
      "an RTT sample",
    );
  });
});

describe("PeerTransport lanes and queues", () => {
  it("delivers a heartbeat sent after a 16 MB append backlog before the backlog finishes", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2)]);
    await b.handler.until(() => b.handler.messages.length === 1, "the connection to come up");
    const appends = Array.from({ length: 1000 }, (_, i) => append(1, 2, i * 4, 4, 4096));
    a.transport.send(appends);
    a.transport.send([heartbeat(1, 2, 99)]);
    await b.handler.until(
      () => b.handler.messages.filter((m) => m.type === MessageType.Append).length === 1000,
      "all appends",
    );
    const order = b.handler.messages.map((m) => m.type);
    const lastAppend = order.lastIndexOf(MessageType.Append);
    const urgentHeartbeat = b.handler.messages.findIndex((m) => m.commit === 99);
    expect(urgentHeartbeat).toBeGreaterThan(0);
    expect(urgentHeartbeat).toBeLessThan(lastAppend);
  });

  it("keeps appends to one peer in order", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    for (let i = 0; i < 50; i++) {
      a.transport.send(Array.from({ length: 20 }, (_, j) => append(1, 2, (i * 20 + j) * 2, 1, 64)));
      await new Promise((r) => setImmediate(r));
    }
    await b.handler.until(() => b.handler.messages.length === 1000, "1000 appends");
    expect(b.handler.messages.map((m) => m.index)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i * 2),
    );
  });

  it("drops and counts messages beyond a full queue instead of growing without bound", async () => {
    const a = await member(1, { maxQueuedMessages: 10 });
    // A peer that accepts TCP connections but never speaks HTTP/2: the connection stays
    // "connecting", so messages can only queue.
    const { createServer } = await import("node:net");
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      a.transport.addPeer(2, [`http://127.0.0.1:${port}`]);
      a.transport.send(Array.from({ length: 25 }, (_, i) => heartbeat(1, 2, i)));
      a.transport.send(Array.from({ length: 5 }, (_, i) => append(1, 2, i)));
      const stats = a.transport.stats().peers.get(2)!;
      expect(stats.dropped.queue_full).toBe(15);
      expect(stats.sentMessages).toBe(0);
    } finally {
      silent.close();
    }
  });

  it("drops and counts messages to a member that is down, and never throws", async () => {
    const a = await member(1, { backoff: { initialDelayMs: 200, maxDelayMs: 400 } });
    a.transport.addPeer(2, ["http://127.0.0.1:1"]); // nothing listens on port 1
    a.transport.send([heartbeat(1, 2)]);
    await eventually(
      () => a.transport.stats().peers.get(2)!.dropped.unreachable >= 1,
      "the first drop",
    );
    a.transport.send([heartbeat(1, 2), heartbeat(1, 2)]);
    expect(a.transport.stats().peers.get(2)!.dropped.unreachable).toBeGreaterThanOrEqual(3);
  });

  it("drops a single message larger than maxSendMessageBytes and counts it", async () => {
    const a = await member(1, { maxSendMessageBytes: 1024 });
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([append(1, 2, 1, 1, 4096), heartbeat(1, 2, 3)]);
    await b.handler.until(() => b.handler.messages.length === 1, "the heartbeat");
    expect(a.transport.stats().peers.get(2)!.dropped.too_large).toBe(1);
  });
});

describe("PeerTransport connections", () => {
  it("reconnects after the peer's transport restarts on the same port", async () => {
    const a = await member(1, { backoff: { initialDelayMs: 20, maxDelayMs: 200 } });
    const b = await member(2);
    const port = new URL(b.url).port;
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2, 1)]);
    await b.handler.until(() => b.handler.messages.length === 1, "the first heartbeat");

    await b.transport.close();
    await eventually(() => !a.transport.stats().peers.get(2)!.connected, "a to notice");
    const b2 = await member(2, { listen: [`http://127.0.0.1:${port}`] });
    b2.transport.addPeer(1, [a.url]);
    await eventually(() => {
      a.transport.send([heartbeat(1, 2, 2)]);
      return b2.handler.messages.length > 0;
    }, "a heartbeat to reach the restarted member");
    expect(a.transport.stats().peers.get(2)!.reconnects).toBeGreaterThanOrEqual(1);
  });

  it("drops a connection to a peer that went silent, after unanswered pings, and reconnects", async () => {
    const a = await member(1, {
      keepaliveIntervalMs: 100,
      backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    });
    const b = await member(2, { keepaliveIntervalMs: 100 });
    const proxy = new TcpProxy(Number(new URL(b.url).port));
    const proxyPort = await proxy.start();
    try {
      a.transport.addPeer(2, [`http://127.0.0.1:${proxyPort}`]);
      b.transport.addPeer(1, [a.url]);
      a.transport.send([heartbeat(1, 2)]);
      await b.handler.until(() => b.handler.messages.length === 1, "the first heartbeat");
      proxy.blackhole(true);
      await eventually(
        () => !a.transport.stats().peers.get(2)!.connected,
        "the silent peer to be dropped",
      );
      proxy.blackhole(false);
      await eventually(() => {
        a.transport.send([heartbeat(1, 2, 2)]);
        return b.handler.messages.some((m) => m.commit === 2);
      }, "delivery after the peer came back");
    } finally {
      await proxy.close();
    }
  });

  it("follows a peer to a new address given at runtime", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2)]);
    await b.handler.until(() => b.handler.messages.length === 1, "the first heartbeat");

    const moved = await member(2);
    moved.transport.addPeer(1, [a.url]);
    a.transport.addPeer(2, [moved.url]);
    await eventually(() => {
      a.transport.send([heartbeat(1, 2, 5)]);
      return moved.handler.messages.length > 0;
    }, "a heartbeat at the new address");
  });

  it("stops sending to and accepting from a removed member", async () => {
    const a = await member(1);
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    b.transport.send([heartbeat(2, 1)]);
    await a.handler.until(() => a.handler.messages.length === 1, "the first heartbeat");

    a.transport.removePeer(2);
    a.transport.send([heartbeat(1, 2)]); // to nobody: dropped silently
    await eventually(() => {
      b.transport.send([heartbeat(2, 1)]);
      return a.transport.stats().rejected.unknown_member > 0;
    }, "the removed member to be refused");
    expect(a.handler.messages).toHaveLength(1);
  });
});

describe("PeerTransport metrics", () => {
  it("exports per-peer counters and round-trip times to the registry it is given", async () => {
    const { Registry } = await import("prom-client");
    const registry = new Registry();
    const a = await member(1, { registry });
    const b = await member(2);
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2), append(1, 2, 1, 2)]);
    b.transport.send([heartbeat(2, 1)]);
    await b.handler.until(() => b.handler.messages.length === 2, "two messages");
    await a.handler.until(() => a.handler.messages.length === 1, "one message");
    await eventually(
      () => a.transport.stats().peers.get(2)?.lastRoundTripMs !== undefined,
      "an RTT sample",
    );
    const text = await registry.metrics();
    expect(text).toMatch(/raftkv_network_peer_sent_messages_total\{peer="2"\} 2/);
    expect(text).toMatch(/raftkv_network_peer_received_messages_total\{peer="2"\} 1/);
    expect(text).toMatch(/raftkv_network_peer_sent_bytes_total\{peer="2"\} [1-9]/);
    expect(text).toMatch(/raftkv_network_peer_connected\{peer="2"\} 1/);
    expect(text).toMatch(
      /raftkv_network_peer_dropped_messages_total\{peer="2",reason="queue_full"\} 0/,
    );
    expect(text).toMatch(/raftkv_network_peer_round_trip_time_seconds_count\{peer="2"\} [1-9]/);
    expect(text).toMatch(/raftkv_network_peer_reconnects_total\{peer="2"\} 0/);
  });
});
