/**
 * Base class of every error raftkv-conformance raises. `code` is stable across
 * releases, so scripts can branch on it.
 */
export abstract class ConformanceError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The command line or an options object is wrong; the message says how. */
export class UsageError extends ConformanceError {
  readonly code = "USAGE";
}

/** An endpoint is not `host:port` or `http://host:port`. */
export class InvalidEndpointError extends ConformanceError {
  readonly code = "INVALID_ENDPOINT";
  readonly endpoint: string;

  constructor(endpoint: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid endpoint ${JSON.stringify(endpoint)}: ${reason}`, options);
    this.endpoint = endpoint;
  }
}

/** A conformance case found the server answering differently from the behaviour it checks. */
export class ConformanceAssertionError extends ConformanceError {
  readonly code = "ASSERTION_FAILED";
}

/** A case or step did not finish within its time limit. */
export class CaseTimeoutError extends ConformanceError {
  readonly code = "TIMEOUT";
}

/** A cluster driver could not load, start, stop or signal a member. */
export class DriverError extends ConformanceError {
  readonly code = "DRIVER";
}

/** A member or cluster did not become ready (serving, with a leader) in time. */
export class ClusterNotReadyError extends ConformanceError {
  readonly code = "CLUSTER_NOT_READY";
}
