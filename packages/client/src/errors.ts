import { Code, ConnectError } from "@connectrpc/connect";

/**
 * etcd's errors that a program acts on, recognised the way etcd's own Go client does: by
 * the exact message the server sends with the gRPC status.
 */
const etcdErrors = {
  "etcdserver: mvcc: required revision has been compacted": "COMPACTED",
  "etcdserver: mvcc: required revision is a future revision": "FUTURE_REVISION",
  "etcdserver: key is not provided": "EMPTY_KEY",
  "etcdserver: request is too large": "REQUEST_TOO_LARGE",
  "etcdserver: too many operations in txn request": "TOO_MANY_OPS",
  "etcdserver: duplicate key given in txn request": "DUPLICATE_KEY",
  "etcdserver: no leader": "NO_LEADER",
  "etcdserver: leader changed": "LEADER_CHANGED",
  "etcdserver: request timed out": "TIMEOUT",
} as const;

export type EtcdErrorCode = (typeof etcdErrors)[keyof typeof etcdErrors] | "UNAVAILABLE" | "OTHER";

/** A call failed; `code` is stable, `grpcCode` and the server's message are kept. */
export class EtcdError extends Error {
  override readonly name = "EtcdError";
  constructor(
    readonly code: EtcdErrorCode,
    readonly grpcCode: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /**
   * True when the request certainly had no effect on the server, so a write may be
   * retried: it was refused before being applied. Timeouts, lost connections and leader
   * changes leave a write's outcome unknown and return false.
   */
  get notApplied(): boolean {
    return (
      this.grpcCode === Code.InvalidArgument ||
      this.grpcCode === Code.OutOfRange ||
      this.grpcCode === Code.FailedPrecondition ||
      this.grpcCode === Code.ResourceExhausted ||
      this.grpcCode === Code.Unimplemented ||
      this.grpcCode === Code.PermissionDenied ||
      this.grpcCode === Code.Unauthenticated
    );
  }
}

/** Turns whatever a Connect call threw into an EtcdError. */
export function toEtcdError(error: unknown): EtcdError {
  if (error instanceof EtcdError) return error;
  const status = ConnectError.from(error);
  const known = (etcdErrors as Record<string, EtcdErrorCode | undefined>)[status.rawMessage];
  const code: EtcdErrorCode = known ?? (status.code === Code.Unavailable ? "UNAVAILABLE" : "OTHER");
  return new EtcdError(code, status.code, status.rawMessage, { cause: error });
}
