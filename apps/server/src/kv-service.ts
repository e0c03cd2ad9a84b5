import {
  isTxnReadOnly,
  isTxnSerializable,
  type KvResponse,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
} from "@raftkv/mvcc-kv";
import {
  type CompactionRequest,
  CompactionRequestSchema,
  type CompactionResponse,
  CompactionResponseSchema,
  type DeleteRangeRequest,
  DeleteRangeRequestSchema,
  type DeleteRangeResponse,
  DeleteRangeResponseSchema,
  type KvRequest,
  type PutRequest,
  PutRequestSchema,
  type PutResponse,
  PutResponseSchema,
  type RangeRequest,
  RangeRequestSchema,
  type RangeResponse,
  RangeResponseSchema,
  type ResponseHeader,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
  TxnResponseSchema,
} from "@raftkv/proto";
import type { UnaryCall, UnaryRoute } from "./grpc/unary-server.js";

/** What the KV service needs from the member it runs on. */
export interface KvBackend {
  readonly maxTxnOps: number;
  /** Milliseconds a request may take when the client set no deadline. */
  readonly requestTimeoutMs: number;
  /**
   * Replicates a write and resolves with its result once applied here. `raw` is the
   * request's protobuf bytes when it came from the wire (reused, not re-encoded).
   */
  write(
    request: KvRequest["request"],
    raw: Uint8Array | undefined,
    timeoutMs: number,
  ): Promise<KvResponse>;
  /** Resolves once a linearizable read may be served from the local store. */
  linearizableBarrier(timeoutMs: number): Promise<void>;
  range(request: RangeRequest): Promise<RangeResponse>;
  txnRead(request: TxnRequest): Promise<TxnResponse>;
  /** Fills cluster_id, member_id and raft_term; keeps revision. */
  fillHeader(header: ResponseHeader | undefined): ResponseHeader;
}

function timeoutOf(call: UnaryCall | undefined, backend: KvBackend): number {
  const t = call?.timeoutMs;
  return t === undefined ? backend.requestTimeoutMs : Math.min(t, backend.requestTimeoutMs);
}

/**
 * etcd's KV service over a member: validation before anything is proposed (so a
 * rejected request is never in the log), writes through Raft, reads after the
 * consistency barrier the request asks for.
 */
export class KvService {
  constructor(private readonly backend: KvBackend) {}

  async range(request: RangeRequest, call?: UnaryCall): Promise<RangeResponse> {
    validateRangeRequest(request);
    if (!request.serializable)
      await this.backend.linearizableBarrier(timeoutOf(call, this.backend));
    const response = await this.backend.range(request);
    response.header = this.backend.fillHeader(response.header);
    return response;
  }

  async put(request: PutRequest, call?: UnaryCall): Promise<PutResponse> {
    validatePutRequest(request);
    return (await this.write({ case: "put", value: request }, call)) as PutResponse;
  }

  async deleteRange(request: DeleteRangeRequest, call?: UnaryCall): Promise<DeleteRangeResponse> {
    validateDeleteRangeRequest(request);
    return (await this.write({ case: "deleteRange", value: request }, call)) as DeleteRangeResponse;
  }

  async txn(request: TxnRequest, call?: UnaryCall): Promise<TxnResponse> {
    validateTxnRequest(request, this.backend.maxTxnOps);
    if (isTxnReadOnly(request)) {
      // Like etcd, a txn that only reads is served outside the log.
      if (!isTxnSerializable(request)) {
        await this.backend.linearizableBarrier(timeoutOf(call, this.backend));
      }
      const response = await this.backend.txnRead(request);
      response.header = this.backend.fillHeader(response.header);
      return response;
    }
    return (await this.write({ case: "txn", value: request }, call)) as TxnResponse;
  }

  async compact(request: CompactionRequest, call?: UnaryCall): Promise<CompactionResponse> {
    return (await this.write({ case: "compaction", value: request }, call)) as CompactionResponse;
  }

  private async write(
    request: KvRequest["request"],
    call: UnaryCall | undefined,
  ): Promise<KvResponse> {
    const response = await this.backend.write(request, call?.raw, timeoutOf(call, this.backend));
    response.header = this.backend.fillHeader(response.header);
    return response;
  }

  /** The methods served on the lean gRPC path, by path. */
  unaryRoutes(): Map<string, UnaryRoute> {
    const route = <I extends UnaryRoute["input"], O extends UnaryRoute["output"]>(
      input: I,
      output: O,
      handle: (request: never, call: UnaryCall) => Promise<unknown>,
    ): UnaryRoute => ({ input, output, handle: handle as UnaryRoute["handle"] });
    return new Map([
      [
        "/etcdserverpb.KV/Range",
        route(RangeRequestSchema, RangeResponseSchema, (r, c) => this.range(r, c)),
      ],
      [
        "/etcdserverpb.KV/Put",
        route(PutRequestSchema, PutResponseSchema, (r, c) => this.put(r, c)),
      ],
      [
        "/etcdserverpb.KV/DeleteRange",
        route(DeleteRangeRequestSchema, DeleteRangeResponseSchema, (r, c) =>
          this.deleteRange(r, c),
        ),
      ],
      [
        "/etcdserverpb.KV/Txn",
        route(TxnRequestSchema, TxnResponseSchema, (r, c) => this.txn(r, c)),
      ],
      [
        "/etcdserverpb.KV/Compact",
        route(CompactionRequestSchema, CompactionResponseSchema, (r, c) => this.compact(r, c)),
      ],
    ]);
  }
}
