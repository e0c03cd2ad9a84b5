import type { NodeId } from "@raftkv/raft-core";
import type { Registry } from "prom-client";
import type { BackoffOptions } from "./backoff.js";
import { InvalidTransportOptionError } from "./errors.js";
import type { TransportLogger } from "./logger.js";
import type { PeerTlsOptions } from "./tls.js";

/** A member the transport sends to, and accepts messages from. */
export interface PeerAddress {
  id: NodeId;
  /** Peer URLs, `http://host:port` or `https://host:port`; tried in turn on failure. */
  urls: readonly string[];
}

/** Snapshot transfer settings. */
export interface SnapshotOptions {
  /** Bytes of snapshot data per InstallSnapshot message. Default 256 KiB. */
  chunkBytes?: number;
  /**
   * Directory where incoming snapshots are spooled until their checksum is verified.
   * Default: a fresh directory under the OS temp dir, removed on close.
   */
  dir?: string;
  /**
   * Bytes the sender keeps after writing them, so a broken transfer can continue where
   * the receiver's data ends. A transfer broken further back than this fails and Raft
   * sends a new snapshot. Default 32 MiB.
   */
  resumeBufferBytes?: number;
  /** Connection attempts per transfer (the first included). Default 5. */
  maxAttempts?: number;
  /** A partial incoming snapshot is deleted after this long without progress. Default 60 s. */
  resumeTimeoutMs?: number;
  /** Largest incoming snapshot; a larger one is refused. Default 64 GiB. */
  maxBytes?: number;
}

/** Options of `createPeerTransport`. */
export interface PeerTransportOptions {
  /** This member's id; a positive safe integer. */
  id: NodeId;
  /** The cluster id (uint64); peers of any other cluster are refused. */
  clusterId: bigint;
  /**
   * URLs to accept peer connections on, e.g. `http://0.0.0.0:2380`; port 0 picks a free
   * port (see `addresses()`). `https:` needs `tls`. Default: none (send-only).
   */
  listen?: readonly (string | URL)[];
  /** Initial peers; more can be added with `addPeer`. */
  peers?: readonly PeerAddress[];
  /** TLS for listening on `https:` URLs and for connecting to `https:` peers. */
  tls?: PeerTlsOptions;
  /** Structured logger (pino-compatible). Default: silent. */
  logger?: TransportLogger;
  /** prom-client registry for the transport's metrics. Default: no metrics. */
  registry?: Registry;
  /** Largest message (gRPC frame) accepted from a peer. Default 16 MiB. */
  maxReceiveMessageBytes?: number;
  /** Largest single Raft message sent; larger ones are dropped and counted. Default 16 MiB. */
  maxSendMessageBytes?: number;
  /** Soft size limit of one outgoing batch. Default 1 MiB. */
  maxBatchBytes?: number;
  /** Messages queued per peer and lane before new ones are dropped. Default 4096. */
  maxQueuedMessages?: number;
  /** Bytes queued per peer and lane before new ones are dropped. Default 64 MiB. */
  maxQueuedBytes?: number;
  /** Unacknowledged batches per peer and lane. Default 64. */
  maxInflightBatches?: number;
  /**
   * Unacknowledged bytes per peer and lane. It also bounds how much append data can sit
   * in socket buffers ahead of a heartbeat. Default 4 MiB.
   */
  maxInflightBytes?: number;
  /**
   * Concurrent message streams accepted from one member (it needs two, four while it
   * reconnects); more are refused with RESOURCE_EXHAUSTED. Default 8.
   */
  maxInboundStreamsPerPeer?: number;
  /** Reconnection backoff. Defaults: 50 ms doubling to 2 s, with jitter. */
  backoff?: BackoffOptions;
  /** Give up on a connection attempt after this long. Default 5000 ms. */
  connectTimeoutMs?: number;
  /**
   * Ping an open connection this often; a ping unanswered for two intervals closes the
   * connection (a silently dead peer). Default 2000 ms.
   */
  keepaliveIntervalMs?: number;
  snapshot?: SnapshotOptions;
  /** Source of randomness for backoff jitter, in [0, 1). Default Math.random. */
  random?: () => number;
}

/** Every option with its default applied. */
export interface ResolvedOptions {
  id: NodeId;
  clusterId: bigint;
  maxReceiveMessageBytes: number;
  maxSendMessageBytes: number;
  maxBatchBytes: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  maxInflightBatches: number;
  maxInflightBytes: number;
  maxInboundStreamsPerPeer: number;
  backoff: BackoffOptions;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  snapshotChunkBytes: number;
  snapshotDir: string | undefined;
  snapshotResumeBufferBytes: number;
  snapshotMaxAttempts: number;
  snapshotResumeTimeoutMs: number;
  snapshotMaxBytes: number;
  random: () => number;
}

const MiB = 1024 * 1024;

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new InvalidTransportOptionError(name, `must be a positive integer, got ${value}`);
  }
  return v;
}

/** Applies defaults and checks ranges; throws InvalidTransportOptionError naming the option. */
export function resolveOptions(options: PeerTransportOptions): ResolvedOptions {
  positiveInt("id", options.id, 0);
  if (
    typeof options.clusterId !== "bigint" ||
    options.clusterId < 0n ||
    options.clusterId >= 2n ** 64n
  ) {
    throw new InvalidTransportOptionError("clusterId", "must be a uint64 bigint");
  }
  const maxReceiveMessageBytes = positiveInt(
    "maxReceiveMessageBytes",
    options.maxReceiveMessageBytes,
    16 * MiB,
  );
  const snapshotChunkBytes = positiveInt(
    "snapshot.chunkBytes",
    options.snapshot?.chunkBytes,
    256 * 1024,
  );
  if (snapshotChunkBytes > maxReceiveMessageBytes - 16) {
    throw new InvalidTransportOptionError(
      "snapshot.chunkBytes",
      "must leave room for framing within maxReceiveMessageBytes",
    );
  }
  const keepaliveIntervalMs = positiveInt("keepaliveIntervalMs", options.keepaliveIntervalMs, 2000);
  return {
    id: options.id,
    clusterId: options.clusterId,
    maxReceiveMessageBytes,
    maxSendMessageBytes: positiveInt("maxSendMessageBytes", options.maxSendMessageBytes, 16 * MiB),
    maxBatchBytes: positiveInt("maxBatchBytes", options.maxBatchBytes, MiB),
    maxQueuedMessages: positiveInt("maxQueuedMessages", options.maxQueuedMessages, 4096),
    maxQueuedBytes: positiveInt("maxQueuedBytes", options.maxQueuedBytes, 64 * MiB),
    maxInflightBatches: positiveInt("maxInflightBatches", options.maxInflightBatches, 64),
    maxInflightBytes: positiveInt("maxInflightBytes", options.maxInflightBytes, 4 * MiB),
    maxInboundStreamsPerPeer: positiveInt(
      "maxInboundStreamsPerPeer",
      options.maxInboundStreamsPerPeer,
      8,
    ),
    backoff: options.backoff ?? {},
    connectTimeoutMs: positiveInt("connectTimeoutMs", options.connectTimeoutMs, 5000),
    keepaliveIntervalMs,
    snapshotChunkBytes,
    snapshotDir: options.snapshot?.dir,
    snapshotResumeBufferBytes: positiveInt(
      "snapshot.resumeBufferBytes",
      options.snapshot?.resumeBufferBytes,
      32 * MiB,
    ),
    snapshotMaxAttempts: positiveInt("snapshot.maxAttempts", options.snapshot?.maxAttempts, 5),
    snapshotResumeTimeoutMs: positiveInt(
      "snapshot.resumeTimeoutMs",
      options.snapshot?.resumeTimeoutMs,
      60_000,
    ),
    snapshotMaxBytes: positiveInt("snapshot.maxBytes", options.snapshot?.maxBytes, 64 * 1024 * MiB),
    random: options.random ?? Math.random,
  };
}

/** Parses and checks a peer or listen URL. */
export function parsePeerUrl(option: string, url: string | URL): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (cause) {
    throw new InvalidTransportOptionError(option, `${String(url)} is not a URL (${String(cause)})`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new InvalidTransportOptionError(option, `${parsed.href} must use http: or https:`);
  }
  return parsed;
}
