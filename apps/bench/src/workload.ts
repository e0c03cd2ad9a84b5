import { create, toBinary } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "@raftkv/proto/etcd";
import { InvalidOptionError } from "./errors.js";
import { frameGrpcMessage } from "./grpc-message.js";

/**
 * What one request does: a Put of one key, or a Range reading one key either
 * linearizably (through Raft's read path) or serializably (the member's local state).
 */
export type Operation = "put" | "range-linearizable" | "range-serializable";

export const OPERATIONS: readonly Operation[] = ["put", "range-linearizable", "range-serializable"];

/** The gRPC method each operation calls. */
export const METHOD_PATHS: Readonly<Record<Operation, string>> = {
  put: "/etcdserverpb.KV/Put",
  "range-linearizable": "/etcdserverpb.KV/Range",
  "range-serializable": "/etcdserverpb.KV/Range",
};

/** The shape of the requests of one run. */
export interface WorkloadSpec {
  operation: Operation;
  /** Keys are drawn from [0, keySpace). Default 100000, as in etcd's published benchmark. */
  keySpace?: number;
  /** Total key length: "k" and a zero-padded decimal index. Default 8. */
  keyBytes?: number;
  /** Put value length. Default 256. Ignored by ranges. */
  valueBytes?: number;
}

/** Resolved workload, every default applied. */
export interface ResolvedWorkload {
  operation: Operation;
  keySpace: number;
  keyBytes: number;
  valueBytes: number;
}

/** Applies defaults and checks that `keySpace` keys fit in `keyBytes`. */
export function resolveWorkload(spec: WorkloadSpec): ResolvedWorkload {
  const resolved = {
    operation: spec.operation,
    keySpace: spec.keySpace ?? 100_000,
    keyBytes: spec.keyBytes ?? 8,
    valueBytes: spec.valueBytes ?? 256,
  };
  if (!OPERATIONS.includes(resolved.operation)) {
    throw new InvalidOptionError(
      `operation must be one of ${OPERATIONS.join(", ")}, got ${String(resolved.operation)}`,
    );
  }
  if (!Number.isInteger(resolved.keyBytes) || resolved.keyBytes < 2 || resolved.keyBytes > 17) {
    throw new InvalidOptionError(`keyBytes must be 2–17, got ${resolved.keyBytes}`);
  }
  if (
    !Number.isInteger(resolved.keySpace) ||
    resolved.keySpace < 1 ||
    resolved.keySpace > 10 ** (resolved.keyBytes - 1)
  ) {
    throw new InvalidOptionError(
      `keySpace must be 1–${10 ** (resolved.keyBytes - 1)} for ${resolved.keyBytes}-byte keys, got ${resolved.keySpace}`,
    );
  }
  if (
    !Number.isInteger(resolved.valueBytes) ||
    resolved.valueBytes < 0 ||
    resolved.valueBytes > 1024 * 1024
  ) {
    throw new InvalidOptionError(`valueBytes must be 0–1048576, got ${resolved.valueBytes}`);
  }
  return resolved;
}

/** The key with index `n`, as the generator writes it. */
export function formatKey(n: number, keyBytes: number): string {
  return `k${String(n).padStart(keyBytes - 1, "0")}`;
}

/**
 * One gRPC-framed request, encoded once, whose key digits are rewritten in place for each
 * call: a call then costs no protobuf encoding and no allocation. Only valid because the
 * connection copies the frame before `call()` returns.
 */
export class RequestTemplate {
  /** The framed request; its key reflects the last setKey(). */
  readonly frame: Buffer;
  readonly path: string;
  private readonly digitsAt: number;
  private readonly digits: number;

  constructor(workload: ResolvedWorkload) {
    const key = new TextEncoder().encode(formatKey(0, workload.keyBytes));
    const message =
      workload.operation === "put"
        ? toBinary(
            PutRequestSchema,
            create(PutRequestSchema, { key, value: fillerValue(workload.valueBytes) }),
          )
        : toBinary(
            RangeRequestSchema,
            create(RangeRequestSchema, {
              key,
              serializable: workload.operation === "range-serializable",
            }),
          );
    this.frame = frameGrpcMessage(message);
    this.path = METHOD_PATHS[workload.operation];
    // The key is field 1 of both messages, so it is the first length-delimited field:
    // tag, one length byte (keys are under 128 bytes), then the key bytes.
    const keyAt = 5 + 2;
    if (this.frame[5] !== 0x0a || this.frame[6] !== key.length) {
      throw new InvalidOptionError("request template: key is not the first field");
    }
    this.digitsAt = keyAt + 1;
    this.digits = workload.keyBytes - 1;
  }

  /** Rewrites the key to index `n` (0 ≤ n < keySpace). */
  setKey(n: number): void {
    let rest = n;
    for (let i = this.digitsAt + this.digits - 1; i >= this.digitsAt; i--) {
      this.frame[i] = 0x30 + (rest % 10);
      rest = Math.floor(rest / 10);
    }
  }
}

/** Value bytes: printable and fixed, so runs are comparable and logs stay readable. */
function fillerValue(length: number): Uint8Array {
  const value = new Uint8Array(length);
  for (let i = 0; i < length; i++) value[i] = 0x61 + (i % 26);
  return value;
}

/**
 * Chooses the key of each request. `random`: uniform over the key space from a seeded
 * xorshift generator, so a run can be replayed. `sequential`: start, start+stride, … — the
 * fill phase gives each worker its own residue class so every key is written once.
 */
export class KeySequence {
  private state: number;
  private nextSequential: number;

  constructor(
    private readonly order: "random" | "sequential",
    private readonly keySpace: number,
    seedOrStart: number,
    private readonly stride = 1,
  ) {
    // xorshift32 must not start at 0.
    this.state = seedOrStart >>> 0 || 0x9e37_79b9;
    this.nextSequential = seedOrStart;
  }

  /** The next key index, or -1 when a sequential order has passed the key space. */
  next(): number {
    if (this.order === "sequential") {
      const n = this.nextSequential;
      if (n >= this.keySpace) return -1;
      this.nextSequential += this.stride;
      return n;
    }
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state % this.keySpace;
  }
}
