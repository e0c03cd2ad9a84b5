import { readFileSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import { create } from "@bufbuild/protobuf";
import { type Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  type ApplyResult,
  type KvResponse,
  MvccError,
  type MvccStore,
  openMvccStore,
} from "@raftkv/mvcc-kv";
import {
  CompactionRequestSchema,
  type CompactionResponse,
  DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  KV,
  type KvRequest,
  Maintenance,
  type ProposeRequest,
  ProposeRequestSchema,
  type ProposeResponse,
  ProposeResponseSchema,
  PutRequestSchema,
  type PutResponse,
  type RangeRequest,
  type ResponseHeader,
  ResponseHeaderSchema,
  StatusRequestSchema,
  type StatusResponse,
  StatusResponseSchema,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
} from "@raftkv/proto";
import {
  createRaftNode,
  LeaderNotFoundError,
  NotLeaderError,
  type PeerDirectory,
  type RaftNode,
  type Transport,
} from "@raftkv/raft-core";
import { ReadBarrier } from "@raftkv/read-strategies";
import { createPeerTransport, FaultInjectingTransport } from "@raftkv/transport-connect";
import { openRocksStorage, type RocksStorage } from "@raftkv/wal-rocksdb";
import type { Logger } from "pino";
import { ConfigError, type ServerConfig } from "./config.js";
import { etcdErrors, toGrpcStatus } from "./errors.js";
import { ClientFront } from "./grpc/client-front.js";
import type { ClientPortTls, HttpRoute } from "./grpc/client-port.js";
import { GrpcCode, GrpcStatusError } from "./grpc/status.js";
import { CallNotSentError, CallOutcomeUnknownError, UnaryClient } from "./grpc/unary-client.js";
import { serveUnary } from "./grpc/unary-server.js";
import { InstrumentedLogStore, InstrumentedStateMachine } from "./instrumented.js";
import { encodeKvEnvelope } from "./kv-envelope.js";
import { KvService } from "./kv-service.js";
import { clusterIdentity, formatId, type Member as MemberInfo } from "./membership.js";
import { ServerMetrics } from "./observability.js";
import { RequestIdGenerator } from "./request-id.js";

const requestSchemas = {
  put: PutRequestSchema,
  deleteRange: DeleteRangeRequestSchema,
  txn: TxnRequestSchema,
  compaction: CompactionRequestSchema,
} as const;

/** The etcd API level raftkv serves; reported as Status.version so clients enable v3.4 features. */
export const ETCD_API_VERSION = "3.4.0";
export const FORWARD_PATH = "/raftkv.kv.v1.ForwardService/Propose";

/** A running raftkv member: storage, Raft, the peer and the client ports. */
export class RaftKvMember {
  readonly id: number;
  readonly clusterId: number;
  private readonly ids: RequestIdGenerator;
  /** Linearizable, serializable and session (read-your-writes) barriers over Raft. */
  readonly reads: ReadBarrier;
  private readonly forwardClient: UnaryClient;
  private readonly clientPorts: ClientFront[] = [];
  private readonly members: Map<number, MemberInfo>;
  private closing: Promise<void> | undefined;
  /** The current term as of the last leader change: status() is too costly per request. */
  private term = 0;
  readonly requestTimeoutMs: number;
  readonly maxTxnOps: number;

  private constructor(
    readonly config: ServerConfig,
    readonly logger: Logger,
    identity: { id: number; clusterId: number; members: MemberInfo[] },
    private readonly storage: RocksStorage,
    readonly store: MvccStore,
    readonly transport: Transport & PeerDirectory,
    readonly faults: FaultInjectingTransport | undefined,
    readonly raft: RaftNode<ApplyResult>,
    readonly metrics: ServerMetrics,
  ) {
    this.id = identity.id;
    this.clusterId = identity.clusterId;
    this.members = new Map(identity.members.map((m) => [m.id, m]));
    this.ids = new RequestIdGenerator(this.id);
    const tls = config.peerTls;
    this.forwardClient = new UnaryClient({
      tls:
        tls === undefined
          ? undefined
          : {
              ca: tls.caFile === undefined ? undefined : readFileSync(tls.caFile),
              cert: readFileSync(tls.certFile),
              key: readFileSync(tls.keyFile),
            },
    });
    this.reads = new ReadBarrier({ raft, position: () => store.currentRevision() });
    this.maxTxnOps = config.maxTxnOps;
    // etcd's request timeout: 5 s plus two election timeouts.
    this.requestTimeoutMs = 5_000 + 2 * config.electionTimeoutMs;
    this.term = raft.status().term;
    raft.onLeaderChange((change) => {
      this.term = change.term;
      this.metrics.leaderChanges.inc();
      this.metrics.hasLeader.set(change.leader === 0 ? 0 : 1);
      this.metrics.isLeader.set(change.leader === this.id ? 1 : 0);
      logger.info(
        { leader: formatId(change.leader), term: change.term, role: change.role },
        change.leader === 0 ? "lost the leader" : "leader elected",
      );
    });
  }

  /** Opens the data dir, starts Raft and the peer port, then serves clients. */
  static async start(config: ServerConfig, logger: Logger): Promise<RaftKvMember> {
    // Unreadable TLS files fail the start before anything is opened.
    const clientTls = loadClientTls(config);
    const identity = clusterIdentity(config.initialCluster, config.initialClusterToken);
    const self = identity.members.find((m) => m.name === config.name);
    if (self === undefined) throw new Error(`--initial-cluster does not name "${config.name}"`);
    logger.info(
      {
        memberId: formatId(self.id),
        clusterId: formatId(identity.clusterId),
        dataDir: config.dataDir,
        members: identity.members.map((m) => `${m.name}=${m.peerUrls.join(",")}`),
      },
      "starting member",
    );
    const metrics = new ServerMetrics();
    const storage = await openRocksStorage({
      dir: config.dataDir,
      clusterId: formatId(identity.clusterId),
      memberId: self.id,
      logger: logger.child({ component: "wal" }),
      registry: metrics.registry,
    });
    let store: MvccStore | undefined;
    let started: RaftKvMember | undefined;
    let transport: (Transport & PeerDirectory) | undefined;
    try {
      store = await openMvccStore({
        backend: storage.backend,
        logger: logger.child({ component: "mvcc" }),
        registry: metrics.registry,
      });
      const peerTransport = createPeerTransport({
        id: self.id,
        clusterId: BigInt(identity.clusterId),
        listen: config.listenPeerUrls.map((u) => u.origin),
        peers: identity.members
          .filter((m) => m.id !== self.id)
          .map((m) => ({ id: m.id, urls: m.peerUrls })),
        logger: logger.child({ component: "transport" }),
        registry: metrics.registry,
        ...(config.peerTls === undefined ? {} : { tls: config.peerTls }),
        // Incoming snapshots are spooled beside the member's data, not in the OS temp dir.
        snapshot: { dir: join(config.dataDir, "snap-incoming") },
      });
      // Registered before Raft starts, so a leader is never without it.
      const forwardRoute = {
        input: ProposeRequestSchema,
        output: ProposeResponseSchema,
        handle: (request: unknown) => {
          if (started === undefined) throw etcdErrors.stopped();
          return started.serveForward(request as ProposeRequest);
        },
      };
      peerTransport.serveMethod(FORWARD_PATH, (stream, headers) =>
        serveUnary(stream, headers, forwardRoute, {
          maxReceiveMessageBytes: config.maxRequestBytes + 64 * 1024,
          toStatus: toGrpcStatus,
        }),
      );
      const faults = config.enableFaultInjection
        ? new FaultInjectingTransport(peerTransport)
        : undefined;
      transport = faults ?? peerTransport;
      const stateMachine = new InstrumentedStateMachine(store, metrics.applyDuration);
      const raft = await createRaftNode<ApplyResult>({
        id: self.id,
        logStore: new InstrumentedLogStore(storage.logStore, metrics.saveDuration),
        transport,
        stateMachine,
        peers: identity.members.map((m) => m.id),
        join: config.initialClusterState === "existing",
        tickMs: config.heartbeatIntervalMs,
        heartbeatTick: 1,
        electionTick: Math.max(
          2,
          Math.round(config.electionTimeoutMs / config.heartbeatIntervalMs),
        ),
        snapshotEntries: config.snapshotCount,
        registry: metrics.registry,
        logger: logger.child({ component: "raft" }),
      });
      const member = new RaftKvMember(
        config,
        logger,
        { ...identity, id: self.id },
        storage,
        store,
        transport,
        faults,
        raft,
        metrics,
      );
      started = member;
      stateMachine.onApplied = () => member.reads.advanced();

      await member.listenClients(clientTls);
      return member;
    } catch (error) {
      await transport?.close().catch(() => {});
      await store?.close().catch(() => {});
      await storage.close().catch(() => {});
      throw error;
    }
  }

  private async listenClients(tls: ClientPortTls | undefined): Promise<void> {
    const kv = new KvService(this);
    const routes = kv.unaryRoutes();
    routes.set("/etcdserverpb.Maintenance/Status", {
      input: StatusRequestSchema,
      output: StatusResponseSchema,
      handle: () => this.status(),
    });
    const connectRoutes = (router: ConnectRouter): void => {
      const wrap =
        <A extends unknown[], T>(fn: (...args: A) => Promise<T>) =>
        async (...args: A): Promise<T> => {
          try {
            return await fn(...args);
          } catch (error) {
            const status = toGrpcStatus(error);
            throw new ConnectError(status.message, status.status as number as Code);
          }
        };
      router.service(KV, {
        range: wrap((r) => kv.range(r)),
        put: wrap((r) => kv.put(r)),
        deleteRange: wrap((r) => kv.deleteRange(r)),
        txn: wrap((r) => kv.txn(r)),
        compact: wrap((r) => kv.compact(r)),
      });
      router.service(Maintenance, { status: wrap(() => this.status()) });
    };
    const httpRoutes = new Map<string, HttpRoute>([
      ["/metrics", (_req, res) => void this.serveMetrics(res)],
      ["/health", (_req, res) => void this.serveHealth(res)],
      ["/readyz", (_req, res) => void this.serveReady(res)],
      ["/livez", (_req, res) => res.end("ok")],
    ]);
    if (this.faults !== undefined) {
      const faults = this.faults;
      httpRoutes.set("/debug/faults", (req, res) => void this.serveFaults(faults, req, res));
    }
    for (const url of this.config.listenClientUrls) {
      const port = new ClientFront(
        {
          tls: url.protocol === "https:" ? tls : undefined,
          unaryRoutes: routes,
          connectRoutes,
          httpRoutes,
          // etcd accepts gRPC messages up to --max-request-bytes plus 512 KiB of overhead,
          // so a request just over the limit gets "request is too large", not a transport error.
          maxReceiveMessageBytes: this.config.maxRequestBytes + 512 * 1024,
          toStatus: toGrpcStatus,
          onDone: (path, status) => this.metrics.countCall(path, status),
        },
        this.logger,
      );
      await port.listen(url.hostname, Number(url.port));
      this.clientPorts.push(port);
      this.logger.info({ url: url.origin }, "serving client requests");
    }
  }

  // ------------------------------------------------------------------ KvBackend

  fillHeader(header: ResponseHeader | undefined): ResponseHeader {
    const h = header ?? create(ResponseHeaderSchema);
    h.clusterId = BigInt(this.clusterId);
    h.memberId = BigInt(this.id);
    h.raftTerm = BigInt(this.term);
    return h;
  }

  range(request: RangeRequest) {
    return this.store.range(request);
  }

  txnRead(request: TxnRequest) {
    return this.store.txnRead(request);
  }

  linearizableBarrier(timeoutMs: number): Promise<void> {
    return this.reads.wait("linearizable", { timeoutMs });
  }

  /** Replicates one write: proposed here when leading, forwarded to the leader otherwise. */
  async write(
    request: KvRequest["request"],
    raw: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<KvResponse> {
    if (request.case === undefined)
      throw new GrpcStatusError(GrpcCode.INVALID_ARGUMENT, "raftkv: empty request");
    // Validated by KvService already; only the size limit is left, on the envelope.
    const data = encodeKvEnvelope(
      this.ids.next(),
      request.case,
      requestSchemas[request.case],
      request.value as never,
      raw,
      this.config.maxRequestBytes,
    );
    const deadline = Date.now() + timeoutMs;
    const started = performance.now();
    this.metrics.proposalsPending.inc();
    let outcome: "ok" | "rejected" | "failed" = "ok";
    try {
      const result = await this.replicate(data, deadline);
      if (result instanceof MvccError) {
        outcome = "rejected";
        throw result;
      }
      if (result === undefined)
        throw new GrpcStatusError(GrpcCode.INTERNAL, "etcdserver: the write produced no result");
      return result;
    } catch (error) {
      if (outcome === "ok") {
        outcome = "failed";
        this.metrics.proposalsFailed.inc();
      }
      throw error;
    } finally {
      this.metrics.proposalsPending.dec();
      this.metrics.observeProposal(outcome, (performance.now() - started) / 1000);
    }
  }

  private async replicate(data: Uint8Array, deadline: number): Promise<ApplyResult> {
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw etcdErrors.timeout();
      if (this.raft.isLeader) {
        try {
          return await this.raft.propose(data, { timeoutMs: remaining });
        } catch (error) {
          // Refused before it entered the log: safe to route again.
          if (error instanceof NotLeaderError || error instanceof LeaderNotFoundError) continue;
          throw error;
        }
      }
      const leader = this.raft.leader;
      if (leader === 0) {
        await this.waitForLeader(deadline);
        if (this.raft.leader === 0) throw etcdErrors.noLeader();
        continue;
      }
      const forwarded = await this.forward(leader, data, deadline);
      if (forwarded !== "retry") return forwarded;
    }
  }

  /**
   * Hands a write to the leader. The request keeps its id across retries, so if the
   * first attempt was applied after all, the state machine answers the retry with the
   * first result instead of applying it twice.
   */
  private async forward(
    leader: number,
    data: Uint8Array,
    deadline: number,
  ): Promise<ApplyResult | "retry"> {
    // Fault injection partitions forwarding too, so a cut-off member behaves as if the
    // network itself were cut.
    if (this.faults?.state().partitioned.includes(leader)) {
      await this.waitForLeaderChange(
        leader,
        Math.min(deadline, Date.now() + this.config.heartbeatIntervalMs),
      );
      return "retry";
    }
    const info = this.members.get(leader);
    const origin = info?.peerUrls[0];
    if (origin === undefined) throw etcdErrors.noLeader();
    let response: ProposeResponse;
    try {
      response = await this.forwardClient.call(
        origin,
        FORWARD_PATH,
        ProposeRequestSchema,
        ProposeResponseSchema,
        create(ProposeRequestSchema, {
          clusterId: BigInt(this.clusterId),
          from: BigInt(this.id),
          request: data,
        }),
        Math.max(1, deadline - Date.now()),
      );
    } catch (error) {
      if (error instanceof CallNotSentError) {
        await this.waitForLeaderChange(
          leader,
          Math.min(deadline, Date.now() + this.config.heartbeatIntervalMs),
        );
        return "retry";
      }
      if (
        error instanceof GrpcStatusError &&
        error.status === GrpcCode.FAILED_PRECONDITION &&
        error.message === "raftkv: not leader"
      ) {
        await this.waitForLeaderChange(
          leader,
          Math.min(deadline, Date.now() + this.config.heartbeatIntervalMs),
        );
        return "retry";
      }
      if (error instanceof CallOutcomeUnknownError) {
        if (Date.now() < deadline) return "retry";
        throw etcdErrors.timeoutConnectionLost();
      }
      throw error;
    }
    const result = response.result;
    if (result.case === "error") {
      throw new GrpcStatusError(result.value.grpcStatus as GrpcCode, result.value.message);
    }
    if (result.case === undefined)
      throw new GrpcStatusError(GrpcCode.INTERNAL, "etcdserver: empty answer from the leader");
    const value = result.value as
      | PutResponse
      | DeleteRangeResponse
      | TxnResponse
      | CompactionResponse;
    // Read your own writes on this member: answer once it has applied the write too.
    const revision = Number(value.header?.revision ?? 0n);
    await this.waitForRevision(revision, deadline);
    return value;
  }

  /** The leader's side of ForwardService.Propose. */
  async serveForward(request: ProposeRequest): Promise<ProposeResponse> {
    if (request.clusterId !== BigInt(this.clusterId)) {
      throw new GrpcStatusError(
        GrpcCode.PERMISSION_DENIED,
        "raftkv: the request comes from another cluster",
      );
    }
    if (!this.raft.isLeader)
      throw new GrpcStatusError(GrpcCode.FAILED_PRECONDITION, "raftkv: not leader");
    let result: ApplyResult;
    try {
      result = await this.raft.propose(request.request, { timeoutMs: this.requestTimeoutMs });
    } catch (error) {
      if (error instanceof NotLeaderError || error instanceof LeaderNotFoundError) {
        throw new GrpcStatusError(GrpcCode.FAILED_PRECONDITION, "raftkv: not leader");
      }
      throw toGrpcStatus(error);
    }
    if (result instanceof MvccError) {
      return create(ProposeResponseSchema, {
        result: {
          case: "error",
          value: { code: result.code, grpcStatus: result.grpcStatus, message: result.message },
        },
      });
    }
    if (result === undefined)
      throw new GrpcStatusError(GrpcCode.INTERNAL, "etcdserver: the write produced no result");
    const kinds = {
      "etcdserverpb.PutResponse": "put",
      "etcdserverpb.DeleteRangeResponse": "deleteRange",
      "etcdserverpb.TxnResponse": "txn",
      "etcdserverpb.CompactionResponse": "compaction",
    } as const;
    const kind = kinds[result.$typeName];
    return create(ProposeResponseSchema, {
      result: { case: kind, value: result } as ProposeResponse["result"],
    });
  }

  private waitForLeader(deadline: number): Promise<void> {
    return this.waitForLeaderChange(0, deadline);
  }

  /** Resolves when the known leader is neither `from` nor 0, or at `deadline`. */
  private waitForLeaderChange(from: number, deadline: number): Promise<void> {
    const current = this.raft.leader;
    if (current !== 0 && current !== from) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.raft.onLeaderChange((e) => {
        if (e.leader !== 0 && e.leader !== from) done();
      });
      const timer = setTimeout(done, Math.max(0, deadline - Date.now()));
      function done(): void {
        stop();
        clearTimeout(timer);
        resolve();
      }
    });
  }

  private async waitForRevision(revision: number, deadline: number): Promise<void> {
    await this.reads.wait("session", {
      timeoutMs: Math.max(0, deadline - Date.now()),
      minPosition: revision,
    });
  }

  // ------------------------------------------------------------------ Maintenance

  async status(): Promise<StatusResponse> {
    const s = this.raft.status();
    return create(StatusResponseSchema, {
      header: this.fillHeader(
        create(ResponseHeaderSchema, { revision: BigInt(this.store.currentRevision()) }),
      ),
      version: ETCD_API_VERSION,
      dbSize: BigInt(await this.dataDirBytes()),
      leader: BigInt(s.lead),
      raftIndex: BigInt(s.commit),
      raftTerm: BigInt(s.term),
      raftAppliedIndex: BigInt(s.appliedIndex),
      dbSizeInUse: BigInt(await this.dataDirBytes()),
      isLearner: false,
    });
  }

  private dirSize: { at: number; bytes: Promise<number> } | undefined;

  /** Bytes of the data dir's files, measured at most once a second (Status is polled often). */
  private dataDirBytes(): Promise<number> {
    const now = Date.now();
    if (this.dirSize === undefined || now - this.dirSize.at > 1_000) {
      const sum = async (dir: string): Promise<number> => {
        let total = 0;
        for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) total += await sum(path);
          else if (entry.isFile()) total += (await stat(path).catch(() => ({ size: 0 }))).size;
        }
        return total;
      };
      this.dirSize = { at: now, bytes: sum(this.storage.dir) };
    }
    return this.dirSize.bytes;
  }

  // ------------------------------------------------------------------ HTTP

  private async serveMetrics(res: Parameters<HttpRoute>[1]): Promise<void> {
    const s = this.raft.status();
    this.metrics.commitIndex.set(s.commit);
    this.metrics.appliedIndex.set(s.appliedIndex);
    const text = await this.metrics.registry.metrics();
    res.writeHead(200, { "content-type": this.metrics.registry.contentType });
    res.end(text);
  }

  /**
   * Test-only control of the peer fault injector (--enable-fault-injection). GET returns
   * the state; POST takes {"action":"partition","members":["node3"]}, {"action":"heal"},
   * {"action":"drop","rate":0.1}, {"action":"delay","ms":50,"jitterMs":20} (each
   * optionally with "member" for one peer) and returns the new state.
   */
  private async serveFaults(
    faults: FaultInjectingTransport,
    req: Parameters<HttpRoute>[0],
    res: Parameters<HttpRoute>[1],
  ): Promise<void> {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET") return reply(200, faults.state());
    if (req.method !== "POST") return reply(405, { error: "use GET or POST" });
    let body = "";
    for await (const chunk of req) {
      body += String(chunk);
      if (body.length > 64 * 1024) return reply(413, { error: "body too large" });
    }
    const idOf = (name: unknown): number => {
      const member = [...this.members.values()].find((m) => m.name === name || m.id === name);
      if (member === undefined) throw new Error(`unknown member ${JSON.stringify(name)}`);
      return member.id;
    };
    try {
      const command = JSON.parse(body) as {
        action?: string;
        members?: unknown[];
        member?: unknown;
        rate?: number;
        ms?: number;
        jitterMs?: number;
      };
      const peer = command.member === undefined ? undefined : idOf(command.member);
      switch (command.action) {
        case "partition":
          faults.partition((command.members ?? []).map(idOf).filter((id) => id !== this.id));
          break;
        case "heal":
          faults.heal(command.members?.map(idOf));
          break;
        case "drop":
          faults.setDropRate(command.rate ?? 0, peer);
          break;
        case "delay":
          faults.setDelay(command.ms ?? 0, command.jitterMs ?? 0, peer);
          break;
        default:
          return reply(400, { error: `unknown action ${JSON.stringify(command.action)}` });
      }
    } catch (error) {
      return reply(400, { error: (error as Error).message });
    }
    this.logger.warn({ faults: faults.state() }, "fault injection changed");
    reply(200, faults.state());
  }

  /** etcd's /health: healthy when a leader is known and a linearizable read succeeds. */
  private async serveHealth(res: Parameters<HttpRoute>[1]): Promise<void> {
    let reason = "";
    if (this.raft.leader === 0) reason = "RAFT NO LEADER";
    else {
      try {
        await this.raft.readIndex({ timeoutMs: 2_000 });
      } catch (error) {
        reason = `QGET ERROR: ${(error as Error).message}`;
      }
    }
    res.writeHead(reason === "" ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ health: reason === "" ? "true" : "false", reason }));
  }

  private serveReady(res: Parameters<HttpRoute>[1]): void {
    const ready = this.raft.leader !== 0 && this.closing === undefined;
    res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
    res.end(ready ? "ok" : "not ready: no leader");
  }

  // ------------------------------------------------------------------ lifecycle

  /** Stops serving clients, then Raft, the transport and storage. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.logger.info({}, "stopping member");
      await Promise.all(this.clientPorts.map((p) => p.close()));
      this.forwardClient.close();
      this.reads.close();
      await this.raft.close();
      await this.transport.close();
      await this.store.close();
      await this.storage.close();
      this.logger.info({}, "member stopped");
    })();
    return this.closing;
  }
}

/** Reads the client port's TLS files (etcd's --cert-file and friends), naming the flag of one that cannot be read. */
function loadClientTls(config: ServerConfig): ClientPortTls | undefined {
  const tls = config.clientTls;
  if (tls === undefined) return undefined;
  const read = (flag: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new ConfigError(flag, `cannot read "${file}": ${(e as Error).message}`);
    }
  };
  const loaded = {
    cert: read("cert-file", tls.certFile),
    key: read("key-file", tls.keyFile),
    ca: tls.caFile === undefined ? undefined : read("trusted-ca-file", tls.caFile),
    clientCertAuth: tls.clientCertAuth,
  };
  try {
    createSecureContext({
      cert: loaded.cert,
      key: loaded.key,
      ...(loaded.ca === undefined ? {} : { ca: loaded.ca }),
    });
  } catch (e) {
    throw new ConfigError("cert-file", `unusable with --key-file: ${(e as Error).message}`);
  }
  return loaded;
}
