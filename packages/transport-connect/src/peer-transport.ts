import type {
  Message,
  NodeId,
  PeerDirectory,
  Transport,
  TransportHandler,
} from "@raftkv/raft-core";
import {
  InvalidTransportOptionError,
  PeerNotFoundError,
  SnapshotTransferError,
  TransportClosedError,
} from "./errors.js";
import { silentLogger } from "./logger.js";
import { TransportMetrics } from "./metrics.js";
import {
  type PeerTransportOptions,
  parsePeerUrl,
  type ResolvedOptions,
  resolveOptions,
} from "./options.js";
import { PeerClient, type PeerContext } from "./peer-client.js";
import { type PeerMethodHandler, PeerServer } from "./peer-server.js";
import { createPeerStats, type PeerStats, type RejectReason } from "./peer-stats.js";
import { INSTALL_SNAPSHOT_PATH, STREAM_PATH } from "./raft-service.js";
import { SnapshotReceiver } from "./snapshot-receiver.js";
import { SnapshotSender } from "./snapshot-sender.js";
import { SpoolDirectory } from "./snapshot-spool.js";
import { type LoadedTls, loadTls } from "./tls.js";

/** A snapshot of the transport's counters, for tests, dashboards and debugging. */
export interface TransportStats {
  peers: Map<NodeId, PeerStats>;
  rejected: Record<RejectReason, number>;
}

/**
 * raft-core's `Transport` and `PeerDirectory` over HTTP/2, speaking the gRPC wire
 * protocol of `raftkv.raft.v1.RaftService` (proto/raftkv/raft/v1/raft.proto). Create it
 * with `createPeerTransport`.
 *
 * - Sending: per peer, one connection with two long-lived `Stream` calls (control and
 *   append lanes), batches coalesced while earlier ones are in flight, bounded queues
 *   that drop and count under pressure, reconnects with jittered exponential backoff.
 * - Receiving: listens on `listen` URLs; checks cluster id, membership, recipient and
 *   size of everything before Raft sees it.
 * - Snapshots: `InstallSnapshot` on a separate connection, chunked, checksummed
 *   (CRC-32C), spooled and verified before delivery, resumed after a broken connection.
 */
export class PeerTransport implements Transport, PeerDirectory, AsyncDisposable {
  private readonly options: ResolvedOptions;
  private readonly context: PeerContext;
  private readonly tls: LoadedTls | undefined;
  private readonly listenUrls: URL[];
  private readonly clients = new Map<NodeId, PeerClient>();
  private readonly extraMethods = new Map<string, PeerMethodHandler>();
  private readonly peerStats = new Map<NodeId, PeerStats>();
  private readonly rejected: Record<RejectReason, number> = {
    cluster_mismatch: 0,
    unknown_member: 0,
    wrong_recipient: 0,
    too_large: 0,
    malformed: 0,
    unsupported: 0,
    too_many_streams: 0,
    tls: 0,
  };
  private readonly server: PeerServer;
  private readonly snapshots: SnapshotReceiver;
  private readonly spool: SpoolDirectory;
  private readonly closing = new AbortController();
  private handler: TransportHandler | undefined;
  private bound: URL[] = [];
  private state: "new" | "starting" | "started" | "closed" = "new";
  private readonly outbound = new Set<Promise<void>>();

  constructor(options: PeerTransportOptions) {
    this.options = resolveOptions(options);
    this.listenUrls = (options.listen ?? []).map((url) => parsePeerUrl("listen", url));
    this.tls = options.tls === undefined ? undefined : loadTls(options.tls);
    const logger = options.logger ?? silentLogger;
    const metrics = new TransportMetrics(options.registry, {
      peers: () => this.peerStats.entries(),
      rejections: () => Object.entries(this.rejected) as [RejectReason, number][],
    });
    this.context = { options: this.options, tls: this.tls, logger, metrics };
    this.spool = new SpoolDirectory(this.options.snapshotDir);
    const server: { current?: PeerServer } = {};
    this.snapshots = new SnapshotReceiver({
      options: this.options,
      logger,
      spool: this.spool,
      handler: () => this.handler,
      peerStats: (peer) => this.statsOf(peer),
      checkHeader: (h) => server.current!.checkAddress(h.clusterId, h.from, h.to),
      refused: (error, peer) => server.current!.countAndLog(error, undefined, peer),
    });
    this.server = new PeerServer(
      {
        options: this.options,
        logger,
        tls: this.tls,
        isMember: (id) => this.clients.has(id),
        handler: () => this.handler,
        peerStats: (peer) => this.statsOf(peer),
        countRejection: (reason) => {
          this.rejected[reason]++;
        },
        extraMethod: (path) => this.extraMethods.get(path),
      },
      this.snapshots,
    );
    server.current = this.server;
    for (const peer of options.peers ?? []) this.addPeer(peer.id, peer.urls);
  }

  /**
   * Serves another gRPC method on the peer port (an application's own peer-to-peer call,
   * such as forwarding a write to the leader). RaftService's paths cannot be taken.
   */
  serveMethod(path: string, handler: PeerMethodHandler): void {
    if (path === STREAM_PATH || path === INSTALL_SNAPSHOT_PATH || !path.startsWith("/")) {
      throw new InvalidTransportOptionError("method path", `${path} cannot be served`);
    }
    this.extraMethods.set(path, handler);
  }

  /** This member's id. */
  get id(): NodeId {
    return this.options.id;
  }

  /**
   * Starts listening and connecting; incoming messages go to `handler`. Rejects if a
   * listen URL cannot be bound (the error from node:net, e.g. EADDRINUSE).
   */
  async start(handler: TransportHandler): Promise<void> {
    if (this.state === "closed") throw new TransportClosedError();
    if (this.state !== "new") throw new InvalidTransportOptionError("start", "already started");
    this.state = "starting";
    this.handler = handler;
    try {
      this.bound = await this.server.listen(this.listenUrls);
    } catch (error) {
      this.handler = undefined;
      await this.server.close();
      this.state = "new";
      throw error;
    }
    this.state = "started";
    for (const client of this.clients.values()) client.start();
  }

  /** The URLs the transport listens on, with the actual ports; empty before `start`. */
  addresses(): URL[] {
    return [...this.bound];
  }

  /**
   * Queues each message for its `to` member. Never blocks or throws: messages to unknown
   * members, to unreachable members, or beyond a full queue are dropped and counted.
   */
  send(messages: readonly Message[]): void {
    if (this.state === "closed" || messages.length === 0) return;
    // Group per peer so that each peer's lanes see one call per Ready.
    let to = messages[0]!.to;
    let start = 0;
    for (let i = 1; i <= messages.length; i++) {
      if (i === messages.length || messages[i]!.to !== to) {
        const group = start === 0 && i === messages.length ? messages : messages.slice(start, i);
        this.sendTo(to, group);
        if (i < messages.length) {
          to = messages[i]!.to;
          start = i;
        }
      }
    }
  }

  private sendTo(to: NodeId, messages: readonly Message[]): void {
    const client = this.clients.get(to);
    if (client === undefined) {
      this.context.logger.debug(
        { peer: to, count: messages.length },
        "dropped messages to an unknown member",
      );
      return;
    }
    client.send(messages);
  }

  /**
   * Streams a snapshot to `message.to` over InstallSnapshot. Resolves once the receiver
   * has verified the data and its Raft node has taken the snapshot in. Rejects with
   * PeerNotFoundError (unknown, or removed during the transfer), TransportClosedError, or
   * SnapshotTransferError (whose `cause` is the last failure, e.g. a PeerRejectedError);
   * Raft then retries with a new snapshot.
   */
  sendSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.state === "closed") return Promise.reject(new TransportClosedError());
    const client = this.clients.get(message.to);
    if (client === undefined) return Promise.reject(new PeerNotFoundError(message.to));
    if (message.snapshot === undefined) {
      return Promise.reject(
        new SnapshotTransferError("sendSnapshot needs a snapshot message with metadata"),
      );
    }
    const sender = new SnapshotSender(
      this.context,
      { id: client.id, currentUrl: () => client.currentUrl, stats: client.stats },
      message,
      data,
      AbortSignal.any([this.closing.signal, client.closedSignal]),
    );
    const run = sender.run();
    const tracked = run.catch(() => {});
    this.outbound.add(tracked);
    void tracked.finally(() => this.outbound.delete(tracked));
    return run;
  }

  /**
   * Adds a member, or changes its URLs (reconnecting if the URL in use is no longer
   * listed). Throws InvalidTransportOptionError for a bad id or URL, or for this member's id.
   */
  addPeer(id: NodeId, urls: readonly string[]): void {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new InvalidTransportOptionError("peer id", `must be a positive integer, got ${id}`);
    }
    if (id === this.options.id) {
      throw new InvalidTransportOptionError("peer id", `${id} is this member's own id`);
    }
    if (urls.length === 0)
      throw new InvalidTransportOptionError("peer urls", `member ${id} has no URL`);
    const parsed = urls.map((url) => parsePeerUrl("peer urls", url));
    if (this.state === "closed") return;
    const existing = this.clients.get(id);
    if (existing !== undefined) {
      existing.setUrls(parsed);
      return;
    }
    const client = new PeerClient(id, parsed, this.context, this.statsOf(id));
    this.clients.set(id, client);
    if (this.state === "started") client.start();
  }

  /** Removes a member: closes the connection to it and every stream from it. */
  removePeer(id: NodeId): void {
    const client = this.clients.get(id);
    if (client === undefined) return;
    this.clients.delete(id);
    client.close();
    this.server.closeInbound(id);
    this.peerStats.delete(id);
  }

  /** Current counters per peer and refusals by reason. */
  stats(): TransportStats {
    return {
      peers: new Map([...this.peerStats].map(([id, s]) => [id, structuredClone(s)])),
      rejected: { ...this.rejected },
    };
  }

  /** Stops listening, closes every connection, fails snapshot transfers in flight, removes spool files. */
  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    this.closing.abort(new TransportClosedError());
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
    await this.server.close();
    await Promise.all(this.outbound);
    await this.snapshots.close();
    await this.spool.remove();
    this.handler = undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private statsOf(peer: NodeId): PeerStats {
    let stats = this.peerStats.get(peer);
    if (stats === undefined) {
      stats = createPeerStats();
      this.peerStats.set(peer, stats);
    }
    return stats;
  }
}

/** Creates a transport; see `PeerTransportOptions` for every option and its default. */
export function createPeerTransport(options: PeerTransportOptions): PeerTransport {
  return new PeerTransport(options);
}
