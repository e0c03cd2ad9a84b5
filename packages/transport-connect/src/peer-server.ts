import {
  createSecureServer,
  createServer,
  type Http2SecureServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { AddressInfo } from "node:net";
import type { NodeId, TransportHandler } from "@raftkv/raft-core";
import {
  ClusterMismatchError,
  InvalidTransportOptionError,
  MalformedMessageError,
  MessageTooLargeError,
  TooManyStreamsError,
  TransportClosedError,
  UnknownMemberError,
  WrongRecipientError,
} from "./errors.js";
import { FrameDecoder } from "./grpc-frame.js";
import { GrpcServerCall, refuseHttp } from "./grpc-server-call.js";
import { GrpcStatus, statusOf } from "./grpc-status.js";
import type { TransportLogger } from "./logger.js";
import { decodeStreamRequest, encodeStreamResponseFrame } from "./message-codec.js";
import type { ResolvedOptions } from "./options.js";
import type { PeerStats, RejectReason } from "./peer-stats.js";
import { Header, INSTALL_SNAPSHOT_PATH, STREAM_PATH } from "./raft-service.js";
import type { SnapshotReceiver } from "./snapshot-receiver.js";
import { type LoadedTls, serverTlsOptions } from "./tls.js";

export interface PeerServerContext {
  options: ResolvedOptions;
  logger: TransportLogger;
  tls: LoadedTls | undefined;
  isMember(id: NodeId): boolean;
  handler(): TransportHandler | undefined;
  peerStats(peer: NodeId): PeerStats;
  countRejection(reason: RejectReason): void;
  /** A handler the application registered for another method on the peer port. */
  extraMethod(path: string): PeerMethodHandler | undefined;
}

/**
 * Serves one gRPC method on the peer port beside RaftService (for instance the server's
 * write forwarding). It gets the raw HTTP/2 stream after the transport checked that the
 * request is a gRPC POST; it owns the stream from then on.
 */
export type PeerMethodHandler = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void;

// Receive windows: large enough that a batch stream runs at loopback speed, small enough
// that a stalled member buffers little (the per-lane in-flight limit is the real bound).
const STREAM_WINDOW_BYTES = 4 * 1024 * 1024;
const SESSION_WINDOW_BYTES = 16 * 1024 * 1024;

/** The reason label of a refusal. */
export function rejectReason(error: unknown): RejectReason {
  if (error instanceof ClusterMismatchError) return "cluster_mismatch";
  if (error instanceof UnknownMemberError) return "unknown_member";
  if (error instanceof WrongRecipientError) return "wrong_recipient";
  if (error instanceof MessageTooLargeError) return "too_large";
  if (error instanceof MalformedMessageError) return "malformed";
  if (error instanceof TooManyStreamsError) return "too_many_streams";
  return "unsupported";
}

/**
 * The listening side: HTTP/2 servers on the peer URLs that serve RaftService with the
 * gRPC wire protocol. Every batch is checked (cluster id, sender is a member, recipient
 * is this member, size limit) before Raft sees it; a refusal ends that stream with a
 * gRPC status and is logged and counted, and the member keeps running.
 */
export class PeerServer {
  private readonly servers: (Http2Server | Http2SecureServer)[] = [];
  private readonly sessions = new Set<Http2Session>();
  private readonly inbound = new Map<NodeId, Set<GrpcServerCall>>();
  private closed = false;

  constructor(
    private readonly context: PeerServerContext,
    private readonly snapshots: SnapshotReceiver,
  ) {}

  /** Listens on every URL; resolves to the URLs actually bound (port 0 replaced). */
  async listen(urls: readonly URL[]): Promise<URL[]> {
    const bound: URL[] = [];
    for (const url of urls) {
      const secure = url.protocol === "https:";
      if (secure && this.context.tls === undefined) {
        throw new InvalidTransportOptionError("listen", `${url.href} needs the tls option`);
      }
      const settings = { initialWindowSize: STREAM_WINDOW_BYTES, maxConcurrentStreams: 256 };
      const server =
        secure && this.context.tls !== undefined
          ? createSecureServer({ ...serverTlsOptions(this.context.tls), settings })
          : createServer({ settings });
      this.servers.push(server);
      server.on("session", (session) => this.onSession(session));
      server.on("stream", (stream, headers) => this.onStream(stream, headers));
      server.on("sessionError", (error) =>
        this.context.logger.debug({ error: error.message }, "peer connection failed"),
      );
      server.on("tlsClientError", (error, socket) => {
        this.context.countRejection("tls");
        this.context.logger.warn(
          { error: error.message, remote: socket.remoteAddress },
          "refused a peer connection: TLS handshake failed",
        );
      });
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const actual = new URL(url.href);
      actual.port = String((server.address() as AddressInfo).port);
      bound.push(actual);
      this.context.logger.info({ url: actual.href }, "listening for peers");
    }
    return bound;
  }

  /** Ends every stream from `peer` (it was removed from the cluster). */
  closeInbound(peer: NodeId): void {
    const calls = this.inbound.get(peer);
    if (calls === undefined) return;
    this.inbound.delete(peer);
    for (const call of calls)
      call.finish(GrpcStatus.PERMISSION_DENIED, `member ${peer} was removed`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const calls of this.inbound.values()) {
      for (const call of calls) call.finish(GrpcStatus.UNAVAILABLE, "member is shutting down");
    }
    this.inbound.clear();
    const closing = this.servers.map(
      (server) => new Promise<void>((resolve) => server.close(() => resolve())),
    );
    for (const session of this.sessions) session.close();
    const timer = setTimeout(() => {
      for (const session of this.sessions) session.destroy();
    }, 1000);
    await Promise.all(closing);
    clearTimeout(timer);
  }

  /** Throws the typed error for a sender/recipient/cluster combination this member refuses. */
  checkAddress(clusterId: bigint, from: NodeId, to: NodeId): void {
    const { options, isMember } = this.context;
    if (clusterId !== options.clusterId)
      throw new ClusterMismatchError(options.clusterId, clusterId);
    if (to !== options.id) throw new WrongRecipientError(to, options.id);
    if (!isMember(from)) throw new UnknownMemberError(from);
  }

  private onSession(session: Http2Session): void {
    this.sessions.add(session);
    // Pings from the peer do not count as activity for node's session timeout, so a
    // silently dead peer is found the same way the client finds one: an unanswered ping.
    const interval = this.context.options.keepaliveIntervalMs;
    let pingSentAt = 0;
    const keepalive = setInterval(() => {
      if (session.destroyed) return;
      if (pingSentAt !== 0) {
        if (performance.now() - pingSentAt > 2 * interval) session.destroy();
        return;
      }
      pingSentAt = performance.now();
      try {
        session.ping((error) => {
          if (error === null) pingSentAt = 0;
        });
      } catch {
        session.destroy();
      }
    }, interval);
    keepalive.unref();
    session.once("close", () => {
      clearInterval(keepalive);
      this.sessions.delete(session);
    });
    session.on("error", () => {}); // reported through the server's sessionError
    session.once("localSettings", () => {
      if (!session.destroyed) session.setLocalWindowSize(SESSION_WINDOW_BYTES);
    });
  }

  private onStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
    stream.on("error", () => {}); // a reset stream; its call's own handlers clean up
    const contentType = headers["content-type"] ?? "";
    if (headers[":method"] !== "POST" || !contentType.startsWith("application/grpc")) {
      this.countAndLog(new MalformedMessageError("not a gRPC request"), stream, undefined);
      refuseHttp(stream, headers[":method"] !== "POST" ? 405 : 415);
      return;
    }
    const extra = this.context.extraMethod(headers[":path"] ?? "");
    if (extra !== undefined) {
      extra(stream, headers);
      return;
    }
    const call = new GrpcServerCall(stream);
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") {
      this.context.countRejection("unsupported");
      call.finish(GrpcStatus.UNIMPLEMENTED, `grpc-encoding ${encoding} is not supported`);
      return;
    }
    if (this.closed || this.context.handler() === undefined) {
      call.finish(GrpcStatus.UNAVAILABLE, "member is not serving peers");
      return;
    }
    switch (headers[":path"]) {
      case STREAM_PATH:
        this.serveMessages(call, headers);
        return;
      case INSTALL_SNAPSHOT_PATH:
        if (this.checkHeaders(call, headers)) {
          call.accept();
          void this.snapshots.serve(call);
        }
        return;
      default:
        this.context.countRejection("unsupported");
        call.finish(GrpcStatus.UNIMPLEMENTED, `method ${headers[":path"]} is not implemented`);
    }
  }

  /** The early check of the raftkv-* request headers, when a caller sends them. */
  private checkHeaders(call: GrpcServerCall, headers: IncomingHttpHeaders): boolean {
    const cluster = headers[Header.clusterId];
    const from = headers[Header.from];
    const to = headers[Header.to];
    if (typeof cluster !== "string" || typeof from !== "string" || typeof to !== "string") {
      return true;
    }
    try {
      let clusterId: bigint;
      try {
        clusterId = BigInt(cluster);
      } catch (cause) {
        throw new MalformedMessageError(`${Header.clusterId} ${cluster} is not a number`, {
          cause,
        });
      }
      const fromId = Number(from);
      const toId = Number(to);
      if (!Number.isSafeInteger(fromId) || !Number.isSafeInteger(toId)) {
        throw new MalformedMessageError(`${Header.from} or ${Header.to} is not a member id`);
      }
      this.checkAddress(clusterId, fromId, toId);
      return true;
    } catch (error) {
      this.countAndLog(error, call.stream, Number(from));
      call.finish(statusOf(error), (error as Error).message);
      return false;
    }
  }

  private serveMessages(call: GrpcServerCall, headers: IncomingHttpHeaders): void {
    if (!this.checkHeaders(call, headers)) return;
    call.accept();
    const stream = call.stream;
    const decoder = new FrameDecoder(this.context.options.maxReceiveMessageBytes);
    let peer: NodeId | undefined;
    let stats: PeerStats | undefined;
    let batches = 0;
    const unregister = () => {
      if (peer !== undefined) this.inbound.get(peer)?.delete(call);
    };
    stream.on("data", (chunk: Buffer) => {
      if (call.closed) return;
      try {
        const frames = decoder.push(chunk);
        if (frames.length === 0) return;
        for (const frame of frames) {
          const batch = decodeStreamRequest(frame);
          if (peer === undefined) {
            this.checkAddress(batch.clusterId, batch.from, batch.to);
            let calls = this.inbound.get(batch.from);
            if (calls === undefined) {
              calls = new Set();
              this.inbound.set(batch.from, calls);
            }
            // A member needs two streams (and briefly four, while reconnecting); more is
            // a misbehaving peer holding resources.
            const limit = this.context.options.maxInboundStreamsPerPeer;
            if (calls.size >= limit) {
              throw new TooManyStreamsError(batch.from, limit);
            }
            peer = batch.from;
            stats = this.context.peerStats(peer);
            calls.add(call);
          } else if (
            batch.from !== peer ||
            batch.to !== this.context.options.id ||
            batch.clusterId !== this.context.options.clusterId
          ) {
            throw new MalformedMessageError("a stream must carry batches of one member pair");
          }
          for (const message of batch.messages) {
            if (message.from !== peer || message.to !== this.context.options.id) {
              throw new MalformedMessageError(
                `message from ${message.from} to ${message.to} inside a batch from ${peer}`,
              );
            }
          }
          batches++;
          stats!.receivedBatches++;
          stats!.receivedMessages += batch.messages.length;
          stats!.receivedBytes += frame.length + 5;
          if (batch.messages.length > 0) {
            const handler = this.context.handler();
            if (handler === undefined) throw new TransportClosedError();
            handler.onMessages(batch.messages);
          }
        }
        // One acknowledgement per received chunk, however many batches it completed.
        call.write(encodeStreamResponseFrame(batches));
      } catch (error) {
        this.countAndLog(error, stream, peer);
        call.finish(statusOf(error), error instanceof Error ? error.message : String(error));
        unregister();
      }
    });
    stream.on("end", () => {
      if (decoder.pendingBytes > 0) {
        call.finish(GrpcStatus.INVALID_ARGUMENT, "stream ended inside a message");
      } else {
        call.finish(GrpcStatus.OK);
      }
      unregister();
    });
    stream.on("close", unregister);
  }

  /** Counts and logs input refused from a peer (or an unexpected failure handling it). */
  countAndLog(
    error: unknown,
    stream: ServerHttp2Stream | undefined,
    peer: NodeId | undefined,
  ): void {
    const isRefusal =
      error instanceof ClusterMismatchError ||
      error instanceof UnknownMemberError ||
      error instanceof WrongRecipientError ||
      error instanceof MessageTooLargeError ||
      error instanceof MalformedMessageError ||
      error instanceof TooManyStreamsError;
    if (isRefusal) this.context.countRejection(rejectReason(error));
    const fields = {
      peer,
      remote: stream?.session?.socket?.remoteAddress,
      code: (error as { code?: string }).code,
      error: error instanceof Error ? error.message : String(error),
    };
    if (isRefusal) this.context.logger.warn(fields, "refused input from a peer");
    else this.context.logger.error(fields, "failed to handle messages from a peer");
  }
}
