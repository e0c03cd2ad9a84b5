import { type Client, Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { KV, Maintenance, type RangeResponse, type StatusResponse } from "@raftkv/proto/etcd";
import { type EtcdError, toEtcdError } from "./errors.js";

export interface ClientOptions {
  /** Members to talk to, as `host:port` or `http://host:port`. At least one. */
  endpoints: readonly string[];
  /** Deadline of each call in milliseconds, sent as grpc-timeout. Default 5,000. */
  timeoutMs?: number;
}

export interface CallOptions {
  /** An optional AbortSignal to cancel the call; it then fails with code "OTHER" (gRPC CANCELED). */
  signal?: AbortSignal;
  /** This call's deadline in milliseconds; default the client's. */
  timeoutMs?: number;
}

export interface GetOptions extends CallOptions {
  /** Serve from the member's local state without a quorum round (etcd's --consistency=s). */
  serializable?: boolean;
  /** Read as of this revision (0: latest). */
  revision?: number;
}

const enc = new TextEncoder();
const bytes = (v: string | Uint8Array): Uint8Array => (typeof v === "string" ? enc.encode(v) : v);

function toUrl(endpoint: string): string {
  const url = endpoint.includes("://") ? endpoint : `http://${endpoint}`;
  const parsed = new URL(url);
  if (parsed.protocol !== "http:" || parsed.port === "") {
    throw new TypeError(`endpoint "${endpoint}" must be host:port or http://host:port`);
  }
  return parsed.origin;
}

interface Member {
  url: string;
  kv: Client<typeof KV>;
  maintenance: Client<typeof Maintenance>;
}

/**
 * A small etcd v3 client for Node over gRPC (HTTP/2), for raftkv and etcd alike. Reads
 * move to the next endpoint when a member is unreachable; writes do not, because a
 * write whose member went away may still have been applied (see `EtcdError.notApplied`).
 */
export class RaftkvClient {
  private readonly members: Member[];
  private preferred = 0;
  private readonly timeoutMs: number;

  constructor(options: ClientOptions) {
    if (options.endpoints.length === 0) throw new TypeError("at least one endpoint is needed");
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.members = options.endpoints.map((e) => {
      const url = toUrl(e);
      const transport = createGrpcTransport({ baseUrl: url });
      return {
        url,
        kv: createClient(KV, transport),
        maintenance: createClient(Maintenance, transport),
      };
    });
  }

  /** The value of `key`, or undefined when it does not exist. */
  async get(key: string | Uint8Array, options: GetOptions = {}): Promise<Uint8Array | undefined> {
    const response = await this.range(key, options);
    return response.kvs[0]?.value;
  }

  /** The full etcd Range response for one key. */
  range(key: string | Uint8Array, options: GetOptions = {}): Promise<RangeResponse> {
    return this.read((m) =>
      m.kv.range(
        {
          key: bytes(key),
          serializable: options.serializable ?? false,
          revision: BigInt(options.revision ?? 0),
        },
        this.callOptions(options),
      ),
    );
  }

  /** Writes `key`; resolves with the revision of the write. */
  async put(
    key: string | Uint8Array,
    value: string | Uint8Array,
    options: CallOptions = {},
  ): Promise<number> {
    const member = this.members[this.preferred] as Member;
    try {
      const res = await member.kv.put(
        { key: bytes(key), value: bytes(value) },
        this.callOptions(options),
      );
      return Number(res.header?.revision ?? 0n);
    } catch (error) {
      throw toEtcdError(error);
    }
  }

  /** Deletes `key`; resolves with the number of keys deleted (0 or 1). */
  async delete(key: string | Uint8Array, options: CallOptions = {}): Promise<number> {
    const member = this.members[this.preferred] as Member;
    try {
      const res = await member.kv.deleteRange({ key: bytes(key) }, this.callOptions(options));
      return Number(res.deleted);
    } catch (error) {
      throw toEtcdError(error);
    }
  }

  /** The status of every endpoint, in order; an unreachable one gives its EtcdError. */
  status(options: CallOptions = {}): Promise<Array<StatusResponse | EtcdError>> {
    return Promise.all(
      this.members.map((m) =>
        m.maintenance.status({}, this.callOptions(options)).catch(toEtcdError),
      ),
    );
  }

  private callOptions(options: CallOptions): { timeoutMs: number; signal?: AbortSignal } {
    const out: { timeoutMs: number; signal?: AbortSignal } = {
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
    };
    if (options.signal !== undefined) out.signal = options.signal;
    return out;
  }

  /** Runs an idempotent call, moving on to the next member while members are unreachable. */
  private async read<T>(call: (m: Member) => Promise<T>): Promise<T> {
    let last: EtcdError | undefined;
    for (let i = 0; i < this.members.length; i++) {
      const at = (this.preferred + i) % this.members.length;
      try {
        const result = await call(this.members[at] as Member);
        this.preferred = at;
        return result;
      } catch (error) {
        last = toEtcdError(error);
        if (last.grpcCode !== Code.Unavailable) throw last;
      }
    }
    throw last as EtcdError;
  }
}

/** Creates a client; see `RaftkvClient`. Throws TypeError for a malformed endpoint. */
export function createRaftkvClient(options: ClientOptions): RaftkvClient {
  return new RaftkvClient(options);
}
