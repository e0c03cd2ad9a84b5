import { type ClientHttp2Session, connect } from "node:http2";
import { type Message, MessageType, type NodeId } from "@raftkv/raft-core";
import { Backoff } from "./backoff.js";
import { PeerNotFoundError } from "./errors.js";
import { GrpcClientCall } from "./grpc-client-call.js";
import { GrpcStatus } from "./grpc-status.js";
import type { TransportLogger } from "./logger.js";
import { decodeStreamResponse, encodeBatchAddress, messageSize } from "./message-codec.js";
import type { TransportMetrics } from "./metrics.js";
import type { ResolvedOptions } from "./options.js";
import { PeerLane } from "./peer-lane.js";
import type { DropReason, PeerStats } from "./peer-stats.js";
import { Header, STREAM_PATH } from "./raft-service.js";
import { clientTlsOptions, type LoadedTls } from "./tls.js";

/** What every peer connection shares: settings, TLS material, logging and metrics. */
export interface PeerContext {
  options: ResolvedOptions;
  tls: LoadedTls | undefined;
  logger: TransportLogger;
  metrics: TransportMetrics;
}

type ConnectionState = "idle" | "connecting" | "connected" | "backoff" | "closed";

/** Opens an HTTP/2 session to `url` with the transport's TLS settings. */
export function connectSession(context: PeerContext, url: URL): ClientHttp2Session {
  return connect(url, {
    ...(url.protocol === "https:" ? clientTlsOptions(context.tls) : {}),
    settings: { enablePush: false },
  });
}

/**
 * The sending side towards one peer: one HTTP/2 connection with two long-lived
 * RaftService.Stream calls, a control lane (votes, heartbeats, responses, everything
 * small and urgent) and an append lane (MsgApp), so a heartbeat never waits behind a
 * large append batch in the same queue. Reconnects with backoff; while the peer is
 * unreachable, messages are dropped and counted (Raft retransmits).
 */
export class PeerClient {
  private urls: URL[];
  private urlIndex = 0;
  private state: ConnectionState = "idle";
  private session: ClientHttp2Session | undefined;
  private calls: GrpcClientCall[] = [];
  private everConnected = false;
  private readonly backoff: Backoff;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private pingOutstandingSince = 0;
  private flushScheduled = false;
  private readonly removed = new AbortController();
  private readonly control: PeerLane;
  private readonly append: PeerLane;

  constructor(
    readonly id: NodeId,
    urls: readonly URL[],
    private readonly context: PeerContext,
    readonly stats: PeerStats,
  ) {
    this.urls = [...urls];
    const o = context.options;
    this.backoff = new Backoff(o.backoff, o.random);
    const address = encodeBatchAddress({ clusterId: o.clusterId, from: o.id, to: id });
    const limits = {
      maxQueuedMessages: o.maxQueuedMessages,
      maxQueuedBytes: o.maxQueuedBytes,
      maxBatchBytes: o.maxBatchBytes,
      maxInflightBatches: o.maxInflightBatches,
      maxInflightBytes: o.maxInflightBytes,
    };
    const onRoundTrip = (seconds: number) => context.metrics.observeRoundTrip(id, seconds);
    this.control = new PeerLane(address, limits, stats, onRoundTrip);
    this.append = new PeerLane(address, limits, stats, onRoundTrip);
  }

  /** The URL in use (or next to be tried). */
  get currentUrl(): URL {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  get connected(): boolean {
    return this.state === "connected";
  }

  /** Aborted (with PeerNotFoundError) when the peer is closed, e.g. removed from the cluster. */
  get closedSignal(): AbortSignal {
    return this.removed.signal;
  }

  /** Starts connecting if idle; messages sent meanwhile wait in the queues. */
  start(): void {
    if (this.state === "idle") this.connect();
  }

  /** Queues messages addressed to this peer; drops (and counts) what cannot be queued. */
  send(messages: readonly Message[]): void {
    if (this.state === "closed") return;
    if (this.state === "backoff") {
      this.drop("unreachable", messages.length);
      return;
    }
    if (this.state === "idle") this.connect();
    const maxSend = this.context.options.maxSendMessageBytes;
    for (const message of messages) {
      const size = messageSize(message);
      if (size > maxSend) {
        this.drop("too_large", 1);
        this.context.logger.warn(
          { peer: this.id, type: message.type, bytes: size, limitBytes: maxSend },
          "dropped a message larger than maxSendMessageBytes",
        );
        continue;
      }
      const lane = message.type === MessageType.Append ? this.append : this.control;
      if (!lane.enqueue(message, size)) this.drop("queue_full", 1);
    }
    this.scheduleFlush();
  }

  /** Replaces the peer's URLs; reconnects at once if the connection in use is not among them. */
  setUrls(urls: readonly URL[]): void {
    const before = this.currentUrl.href;
    this.urls = [...urls];
    const stillListed = this.urls.findIndex((u) => u.href === before);
    if (stillListed >= 0) {
      this.urlIndex = stillListed;
      return;
    }
    this.urlIndex = 0;
    this.context.logger.info(
      { peer: this.id, urls: this.urls.map((u) => u.href) },
      "peer address changed; reconnecting",
    );
    this.backoff.reset();
    if (this.state === "backoff") {
      clearTimeout(this.reconnectTimer);
      this.state = "idle";
      this.connect();
    } else if (this.session !== undefined) {
      this.session.destroy();
    }
  }

  /** Closes the connection and drops anything queued. */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.removed.abort(new PeerNotFoundError(this.id));
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearInterval(this.keepaliveTimer);
    this.control.detach();
    this.append.detach();
    const session = this.session;
    this.session = undefined;
    this.stats.connected = false;
    for (const call of this.calls) call.end();
    session?.close();
    // A graceful close waits for open streams; the peer ends them on seeing ours end.
    setTimeout(() => session?.destroy(), 1000).unref();
  }

  private connect(): void {
    const url = this.currentUrl;
    const { logger, options } = this.context;
    this.state = "connecting";
    const session = connectSession(this.context, url);
    this.session = session;
    this.connectTimer = setTimeout(
      () => session.destroy(new Error(`connecting to ${url.href} timed out`)),
      options.connectTimeoutMs,
    );
    session.on("error", (error) => this.onSessionEnd(session, error));
    session.on("close", () => this.onSessionEnd(session, undefined));
    session.on("goaway", () => this.onSessionEnd(session, new Error("peer sent GOAWAY")));
    session.once("connect", () => {
      if (this.session !== session) return;
      clearTimeout(this.connectTimer);
      this.state = "connected";
      this.stats.connected = true;
      if (this.everConnected) this.stats.reconnects++;
      this.everConnected = true;
      logger.info({ peer: this.id, url: url.href }, "connected to peer");
      this.control.attach(this.openLane(session, "control", this.control));
      this.append.attach(this.openLane(session, "append", this.append));
      this.startKeepalive(session);
      this.scheduleFlush();
    });
  }

  private openLane(session: ClientHttp2Session, name: string, lane: PeerLane): GrpcClientCall {
    const o = this.context.options;
    const call = new GrpcClientCall({
      session,
      path: STREAM_PATH,
      headers: {
        [Header.clusterId]: o.clusterId.toString(),
        [Header.from]: String(o.id),
        [Header.to]: String(this.id),
        [Header.lane]: name,
      },
      maxReceiveMessageBytes: o.maxReceiveMessageBytes,
      onMessage: (bytes) => {
        // The peer accepted our messages: the connection works, so forget past failures.
        this.backoff.reset();
        lane.onAck(decodeStreamResponse(bytes));
      },
    });
    this.calls.push(call);
    void call.outcome.then((outcome) => {
      if (this.session !== session) return;
      const fields = {
        peer: this.id,
        lane: name,
        grpcStatus: outcome.status,
        reason: outcome.message,
      };
      if (outcome.transportError === undefined && outcome.status !== GrpcStatus.OK) {
        this.context.logger.warn(fields, "peer refused our message stream");
      } else {
        this.context.logger.debug(fields, "message stream to peer ended");
      }
      // Both lanes live and die with the connection, so that a reconnect starts clean.
      session.destroy();
    });
    return call;
  }

  private startKeepalive(session: ClientHttp2Session): void {
    const interval = this.context.options.keepaliveIntervalMs;
    this.pingOutstandingSince = 0;
    clearInterval(this.keepaliveTimer);
    this.keepaliveTimer = setInterval(() => {
      if (this.session !== session || session.destroyed) return;
      const now = performance.now();
      if (this.pingOutstandingSince !== 0) {
        if (now - this.pingOutstandingSince > 2 * interval) {
          session.destroy(new Error(`peer did not answer a ping within ${2 * interval} ms`));
        }
        return;
      }
      this.pingOutstandingSince = now;
      try {
        session.ping((error) => {
          if (error === null) this.pingOutstandingSince = 0;
        });
      } catch (error) {
        session.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    }, interval);
    this.keepaliveTimer.unref();
  }

  private onSessionEnd(session: ClientHttp2Session, error: Error | undefined): void {
    if (this.session !== session) return;
    this.session = undefined;
    this.calls = [];
    clearTimeout(this.connectTimer);
    clearInterval(this.keepaliveTimer);
    if (!session.destroyed) session.destroy();
    const wasConnected = this.state === "connected";
    this.stats.connected = false;
    this.drop("unreachable", this.control.detach() + this.append.detach());
    if (this.state === "closed") return;
    const delayMs = this.backoff.next();
    const fields = {
      peer: this.id,
      url: this.currentUrl.href,
      error: error?.message,
      retryInMs: Math.round(delayMs),
      attempt: this.backoff.attempts,
    };
    if (wasConnected) this.context.logger.warn(fields, "lost connection to peer");
    else this.context.logger.debug(fields, "could not connect to peer");
    this.urlIndex = (this.urlIndex + 1) % this.urls.length;
    this.state = "backoff";
    this.reconnectTimer = setTimeout(() => {
      if (this.state !== "backoff") return;
      this.state = "idle";
      this.connect();
    }, delayMs);
    this.reconnectTimer.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Coalesces every send() of the current tick (one per Ready, typically) into one batch.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.control.flush();
      this.append.flush();
    });
  }

  private drop(reason: DropReason, count: number): void {
    if (count > 0) this.stats.dropped[reason] += count;
  }
}
