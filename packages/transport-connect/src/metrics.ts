import type { NodeId } from "@raftkv/raft-core";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { DropReason, PeerStats, RejectReason } from "./peer-stats.js";

/** Where the metrics read their values at scrape time. */
export interface MetricsSource {
  peers(): Iterable<[NodeId, PeerStats]>;
  rejections(): Iterable<[RejectReason, number]>;
}

/**
 * The transport's Prometheus metrics. Counters are read from the plain per-peer stats at
 * scrape time (`collect`), so the hot path only adds to numbers; round-trip times are
 * observed as they are measured. A registry holds the metrics of one transport.
 */
export class TransportMetrics {
  private readonly roundTrip: Histogram<"peer"> | undefined;
  private readonly roundTripByPeer = new Map<NodeId, { observe(value: number): void }>();

  constructor(registry: Registry | undefined, source: MetricsSource) {
    if (registry === undefined) return;
    const registers = [registry];
    const perPeer = (
      name: string,
      help: string,
      value: (stats: PeerStats) => number,
    ): Counter<"peer"> =>
      new Counter({
        name,
        help,
        labelNames: ["peer"],
        registers,
        collect() {
          this.reset();
          for (const [peer, stats] of source.peers()) this.labels(String(peer)).inc(value(stats));
        },
      });
    perPeer(
      "raftkv_network_peer_sent_messages_total",
      "Raft messages sent to a peer.",
      (s) => s.sentMessages,
    );
    perPeer(
      "raftkv_network_peer_sent_bytes_total",
      "Bytes of message batches sent to a peer.",
      (s) => s.sentBytes,
    );
    perPeer(
      "raftkv_network_peer_received_messages_total",
      "Raft messages received from a peer.",
      (s) => s.receivedMessages,
    );
    perPeer(
      "raftkv_network_peer_received_bytes_total",
      "Bytes of message batches received from a peer.",
      (s) => s.receivedBytes,
    );
    perPeer(
      "raftkv_network_peer_reconnects_total",
      "Connections to a peer opened after the first.",
      (s) => s.reconnects,
    );
    perPeer(
      "raftkv_network_peer_snapshot_sent_bytes_total",
      "Snapshot bytes sent to a peer.",
      (s) => s.snapshotBytesSent,
    );
    new Counter({
      name: "raftkv_network_peer_dropped_messages_total",
      help: "Messages to a peer dropped instead of sent, by reason; Raft retransmits them.",
      labelNames: ["peer", "reason"],
      registers,
      collect() {
        this.reset();
        for (const [peer, stats] of source.peers()) {
          for (const reason of Object.keys(stats.dropped) as DropReason[]) {
            this.labels(String(peer), reason).inc(stats.dropped[reason]);
          }
        }
      },
    });
    new Counter({
      name: "raftkv_network_peer_snapshots_total",
      help: "Snapshot transfers by direction and result.",
      labelNames: ["peer", "direction", "result"],
      registers,
      collect() {
        this.reset();
        for (const [peer, s] of source.peers()) {
          this.labels(String(peer), "sent", "ok").inc(s.snapshotsSent);
          this.labels(String(peer), "sent", "failed").inc(s.snapshotsFailed);
          this.labels(String(peer), "received", "ok").inc(s.snapshotsReceived);
        }
      },
    });
    new Gauge({
      name: "raftkv_network_peer_connected",
      help: "1 while the connection to a peer is up.",
      labelNames: ["peer"],
      registers,
      collect() {
        this.reset();
        for (const [peer, s] of source.peers()) this.labels(String(peer)).set(s.connected ? 1 : 0);
      },
    });
    new Counter({
      name: "raftkv_network_rejected_total",
      help: "Incoming streams or messages refused, by reason.",
      labelNames: ["reason"],
      registers,
      collect() {
        this.reset();
        for (const [reason, count] of source.rejections()) this.labels(reason).inc(count);
      },
    });
    this.roundTrip = new Histogram({
      name: "raftkv_network_peer_round_trip_time_seconds",
      help: "Time from sending a message batch to a peer until the peer acknowledged it.",
      labelNames: ["peer"],
      // 100 µs to ~3.3 s: loopback to a badly overloaded WAN link.
      buckets: Array.from({ length: 16 }, (_, i) => 0.0001 * 2 ** i),
      registers,
    });
  }

  /** Records one round trip to `peer`. */
  observeRoundTrip(peer: NodeId, seconds: number): void {
    if (this.roundTrip === undefined) return;
    let child = this.roundTripByPeer.get(peer);
    if (child === undefined) {
      child = this.roundTrip.labels(String(peer));
      this.roundTripByPeer.set(peer, child);
    }
    child.observe(seconds);
  }
}
