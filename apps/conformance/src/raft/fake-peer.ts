import { createServer, type Http2Server, type Http2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import {
  type Message,
  type MessageBatch,
  MessageBatchSchema,
  RaftService,
  StreamResponseSchema,
} from "@raftkv/proto/raft";
import { ConformanceAssertionError } from "../errors.js";
import { PeerLink } from "./peer-link.js";
import { describeMessage } from "./raft-messages.js";

/** A message the member under test sent to a fake peer, with its batch's addressing. */
export interface ReceivedMessage {
  /** Position in everything this peer received, from 1. */
  readonly seq: number;
  readonly clusterId: bigint;
  /** The batch's sender and recipient. */
  readonly from: bigint;
  readonly to: bigint;
  readonly message: Message;
}

/** Where a fake peer's messages go: the member under test, once its ids are known. */
export interface PeerRoute {
  /** The member's peer URL, `http://host:port`. */
  readonly nodeUrl: string;
  readonly nodeId: bigint;
  readonly clusterId: bigint;
}

/** Answers a message from the member under test (or not, with undefined). */
export type Responder = (message: Message) => Message | undefined;

/** Options of `FakePeer.listen`. */
export interface FakePeerOptions {
  /** The name in the member's --initial-cluster. */
  readonly name: string;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /**
   * Messages kept for scripts to look at; beyond it the oldest are forgotten (the
   * member's heartbeat answers would otherwise pile up). Default 10 000.
   */
  readonly maxRecordedMessages?: number;
}

const WAIT_POLL_LIMIT_MS = 250;

/**
 * A scripted member of the cluster: it serves `RaftService` on its own peer URL and
 * records every batch the member under test sends it (a member sends by opening its own
 * `Stream` to the peer, so answers arrive here, not on the stream a script sends on),
 * and it sends the script's messages to the member over an outbound `Stream`.
 *
 * It never answers by itself: a script decides every answer, or installs a `Responder`.
 */
export class FakePeer {
  readonly name: string;
  /** `http://host:port`, as the member's --initial-cluster names it. */
  readonly url: string;
  /** This peer's member id, learned from the member's first batch to it; 0 until then. */
  id = 0n;
  /**
   * Addressing faults in what the member sent (a batch for another member, a message
   * whose sender differs from its batch's); each is a finding the suite reports.
   */
  readonly addressingFaults: string[] = [];

  private readonly server: Http2Server;
  private readonly sessions = new Set<Http2Session>();
  private readonly maxRecorded: number;
  private received: ReceivedMessage[] = [];
  private seq = 0;
  private waiters = new Set<() => void>();
  private responder: Responder | undefined;
  private route: PeerRoute | undefined;
  private link: PeerLink | undefined;
  private readonly extraLinks = new Set<PeerLink>();

  private constructor(name: string, url: string, server: Http2Server, maxRecorded: number) {
    this.name = name;
    this.url = url;
    this.server = server;
    this.maxRecorded = maxRecorded;
  }

  /** Starts listening; resolves once the port is bound. */
  static async listen(options: FakePeerOptions): Promise<FakePeer> {
    const host = options.host ?? "127.0.0.1";
    let peer: FakePeer | undefined;
    const routes = (router: ConnectRouter): void => {
      router.service(RaftService, {
        async *stream(requests) {
          let batches = 0n;
          for await (const request of requests) {
            batches++;
            if (request.batch !== undefined) peer?.record(request.batch);
            yield create(StreamResponseSchema, { batchesReceived: batches });
          }
        },
        async installSnapshot() {
          // The scripts never let the member fall behind a compaction point, so a
          // snapshot sent here is unexpected; refusing it is what a member does with data
          // it cannot take.
          throw new ConnectError("the fake peer takes no snapshots", Code.Unimplemented);
        },
      });
    };
    const server = createServer(connectNodeAdapter({ routes, grpc: true, grpcWeb: false }));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    const urlHost = host.includes(":") ? `[${host}]` : host;
    peer = new FakePeer(
      options.name,
      `http://${urlHost}:${port}`,
      server,
      options.maxRecordedMessages ?? 10_000,
    );
    const created = peer;
    server.on("session", (session) => {
      created.sessions.add(session);
      session.once("close", () => created.sessions.delete(session));
      session.on("error", () => {});
    });
    return peer;
  }

  /** Sets where `send` delivers; the member's ids must be known. */
  setRoute(route: PeerRoute): void {
    this.route = route;
  }

  /** The sequence number of the latest message received; pass it to `waitFor` as `after`. */
  mark(): number {
    return this.seq;
  }

  /** Messages received after `mark` that satisfy `predicate`, oldest first. */
  since(mark: number, predicate: (m: Message) => boolean = () => true): ReceivedMessage[] {
    return this.received.filter((r) => r.seq > mark && predicate(r.message));
  }

  /**
   * The first message received after `options.after` (default: any) satisfying
   * `predicate`, waiting up to `timeoutMs` for it.
   *
   * @throws ConformanceAssertionError naming `what` when none arrives in time.
   */
  async waitFor(
    predicate: (m: Message) => boolean,
    what: string,
    options: { after?: number; timeoutMs: number; signal?: AbortSignal },
  ): Promise<ReceivedMessage> {
    const after = options.after ?? 0;
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
      const found = this.received.find((r) => r.seq > after && predicate(r.message));
      if (found !== undefined) return found;
      const remaining = deadline - Date.now();
      if (remaining <= 0 || options.signal?.aborted === true) {
        const recent = this.since(after)
          .slice(-5)
          .map((r) => describeMessage(r.message));
        throw new ConformanceAssertionError(
          `${this.name}: ${what}: nothing arrived within ${options.timeoutMs} ms` +
            (recent.length === 0 ? "" : `; latest messages to ${this.name}: ${recent.join("; ")}`),
        );
      }
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiters.add(resolve);
        timer = setTimeout(resolve, Math.min(remaining, WAIT_POLL_LIMIT_MS));
      });
      clearTimeout(timer);
    }
  }

  /** Installs (or with undefined removes) an automatic answerer. */
  respondWith(responder: Responder | undefined): void {
    this.responder = responder;
  }

  /**
   * Sends `messages` to the member in one batch (from this peer's id, to the member's)
   * on this peer's outbound stream, opening it if needed. Returns false if the batch
   * was dropped (the member stopped reading).
   *
   * @throws ConformanceAssertionError when the member's ids are not known yet.
   */
  send(...messages: Message[]): boolean {
    const route = this.requireRoute();
    if (this.link === undefined || this.link.isClosed) this.link = new PeerLink(route.nodeUrl);
    return this.link.send(
      create(MessageBatchSchema, {
        clusterId: route.clusterId,
        from: this.id,
        to: route.nodeId,
        messages,
      }),
    );
  }

  /**
   * A new stream of this peer's own, for batches a script addresses by hand (another
   * cluster id, another sender). Closed by `reset` and `close`.
   */
  openLink(): PeerLink {
    const link = new PeerLink(this.requireRoute().nodeUrl);
    this.extraLinks.add(link);
    void link.ended.then(() => this.extraLinks.delete(link));
    return link;
  }

  /** Closes the outbound streams; the next `send` opens a new one (after a restart). */
  resetLinks(): void {
    this.link?.close();
    this.link = undefined;
    for (const link of this.extraLinks) link.close();
    this.extraLinks.clear();
  }

  /** Forgets what was received, the responder and the outbound streams. */
  reset(): void {
    this.resetLinks();
    this.responder = undefined;
    this.received = [];
    this.addressingFaults.length = 0;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    this.resetLinks();
    this.responder = undefined;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) session.destroy();
    await closed;
  }

  private requireRoute(): PeerRoute {
    if (this.route === undefined || this.id === 0n) {
      throw new ConformanceAssertionError(
        `${this.name}: the member's ids are not known yet (it has sent this peer nothing)`,
      );
    }
    return this.route;
  }

  private record(batch: MessageBatch): void {
    if (this.id !== 0n && batch.to !== this.id) {
      this.addressingFaults.push(
        `${this.name} (member ${this.id}) received a batch addressed to member ${batch.to}`,
      );
    }
    const route = this.route;
    if (
      route !== undefined &&
      (batch.from !== route.nodeId || batch.clusterId !== route.clusterId)
    ) {
      this.addressingFaults.push(
        `${this.name} received a batch from member ${batch.from} of cluster ${batch.clusterId}; the member is ${route.nodeId} of cluster ${route.clusterId}`,
      );
    }
    for (const message of batch.messages) {
      if (message.from !== batch.from || message.to !== batch.to) {
        this.addressingFaults.push(
          `${this.name} received ${describeMessage(message)} from ${message.from} to ${message.to} inside a batch from ${batch.from} to ${batch.to}`,
        );
      }
      this.seq++;
      this.received.push({
        seq: this.seq,
        clusterId: batch.clusterId,
        from: batch.from,
        to: batch.to,
        message,
      });
    }
    if (this.received.length > this.maxRecorded) {
      this.received.splice(0, this.received.length - this.maxRecorded);
    }
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    const responder = this.responder;
    if (responder === undefined || this.route === undefined || this.id === 0n) return;
    const answers: Message[] = [];
    for (const message of batch.messages) {
      const answer = responder(message);
      if (answer !== undefined) answers.push(answer);
    }
    if (answers.length > 0) this.send(...answers);
  }
}
