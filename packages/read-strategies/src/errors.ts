/** Base class of the errors this package raises; `code` is stable. */
export abstract class ReadBarrierError extends Error {
  abstract readonly code: string;
}

/** The member could not catch up to the position a session read asked for in time. */
export class SessionReadTimeoutError extends ReadBarrierError {
  readonly code = "SESSION_READ_TIMEOUT";
  override readonly name = "SessionReadTimeoutError";
  constructor(
    readonly wanted: number,
    readonly reached: number,
  ) {
    super(`this member has applied up to ${reached}, not ${wanted}, within the time allowed`);
  }
}

/** The read was given up by its caller (AbortSignal). */
export class ReadAbortedError extends ReadBarrierError {
  readonly code = "READ_ABORTED";
  override readonly name = "ReadAbortedError";
}

/** The barrier was closed while the read waited. */
export class ReadBarrierClosedError extends ReadBarrierError {
  readonly code = "READ_BARRIER_CLOSED";
  override readonly name = "ReadBarrierClosedError";
}
