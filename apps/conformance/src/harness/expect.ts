import { inspect, isDeepStrictEqual } from "node:util";
import { Code, ConnectError } from "@connectrpc/connect";
import { ConformanceAssertionError } from "../errors.js";

// Long enough to show what differs, short enough that a 128-operation txn response
// does not bury the report.
const MAX_SHOWN_CHARS = 600;

const show = (value: unknown): string => {
  const text = inspect(value, {
    depth: 4,
    breakLength: Infinity,
    maxArrayLength: 10,
    maxStringLength: 100,
  });
  return text.length <= MAX_SHOWN_CHARS
    ? text
    : `${text.slice(0, MAX_SHOWN_CHARS)}... (${text.length} chars)`;
};

/** Fails the case with `message` unless `condition` holds. */
export function check(condition: boolean, message: string): asserts condition {
  if (!condition) throw new ConformanceAssertionError(message);
}

/** Fails the case unless `actual` deeply equals `expected` (bigints, bytes and all). */
export function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) {
    throw new ConformanceAssertionError(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** The gRPC status a call is expected to fail with. */
export interface ExpectedStatus {
  readonly code: Code;
  /**
   * The exact status message. etcd's Go client maps errors back to typed values by
   * message (rpctypes.Error), so for etcd's own errors the text is part of the contract.
   * Leave out for statuses produced by the gRPC layer, whose text differs by library.
   */
  readonly message?: string;
}

/**
 * Awaits `call` and fails the case unless it fails with `expected`'s code (and message,
 * if given). Returns the error for further checks.
 */
export async function expectStatus(
  call: Promise<unknown>,
  expected: ExpectedStatus,
  what: string,
): Promise<ConnectError> {
  let error: unknown;
  try {
    const response = await call;
    throw new ConformanceAssertionError(
      `${what}: expected ${describeStatus(expected.code, expected.message)}, but the call succeeded: ${show(response)}`,
    );
  } catch (caught) {
    if (caught instanceof ConformanceAssertionError) throw caught;
    error = caught;
  }
  const status = ConnectError.from(error);
  // A method the server lacks is not a wrong answer: let the runner decide (a skip for
  // features not required, a failure for required ones).
  if (status.code === Code.Unimplemented && expected.code !== Code.Unimplemented) throw status;
  if (status.code !== expected.code) {
    throw new ConformanceAssertionError(
      `${what}: expected ${describeStatus(expected.code, expected.message)}, got ${describeStatus(status.code, status.rawMessage)}`,
      { cause: error },
    );
  }
  if (expected.message !== undefined && status.rawMessage !== expected.message) {
    throw new ConformanceAssertionError(
      `${what}: expected message ${JSON.stringify(expected.message)}, got ${JSON.stringify(status.rawMessage)}`,
      { cause: error },
    );
  }
  return status;
}

/** `INVALID_ARGUMENT "etcdserver: key is not provided"`. */
export function describeStatus(code: Code, message?: string): string {
  const name = Code[code] ?? `code ${code}`;
  const upper = name.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
  return message === undefined ? upper : `${upper} ${JSON.stringify(message)}`;
}
