import { Code, ConnectError } from "@connectrpc/connect";
import { Compare_CompareResult, Compare_CompareTarget } from "@raftkv/proto/etcd";
import type { EtcdClient } from "../etcd-client.js";
import { describeStatus } from "../harness/expect.js";
import type { RegisterInput, RegisterOutput } from "../linearizability/register-model.js";
import type { OperationStatus } from "./recorded-operation.js";

/** The outcome of one register operation against a server. */
export interface RegisterOutcome {
  readonly status: OperationStatus;
  readonly output?: RegisterOutput;
  readonly error?: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

// Statuses a server returns only after refusing a request outright (validation, limits),
// never after starting to apply it.
const REFUSED = new Set<Code>([
  Code.InvalidArgument,
  Code.FailedPrecondition,
  Code.OutOfRange,
  Code.NotFound,
  Code.PermissionDenied,
  Code.Unauthenticated,
  Code.ResourceExhausted,
  Code.Unimplemented,
]);

/**
 * Runs a register operation on `key` through the etcd KV API: read = linearizable
 * Range, write = Put, cas = Txn comparing the value (or version 0 for "empty") and
 * putting on success.
 *
 * Never throws. A read that errs is "fail" (reads change nothing). A write or cas that
 * errs is "fail" only when the request cannot have been applied (connection refused,
 * or a status servers give only before acting); otherwise "unknown", since a timeout or
 * a dropped connection says nothing about whether it was committed.
 */
export async function runRegisterOperation(
  client: EtcdClient,
  key: string,
  input: RegisterInput,
  timeoutMs: number,
): Promise<RegisterOutcome> {
  const keyBytes = encoder.encode(key);
  try {
    switch (input.kind) {
      case "read": {
        const response = await client.kv.range({ key: keyBytes }, { timeoutMs });
        const kv = response.kvs[0];
        return {
          status: "ok",
          output: { kind: "read", value: kv === undefined ? null : decoder.decode(kv.value) },
        };
      }
      case "write":
        await client.kv.put({ key: keyBytes, value: encoder.encode(input.value) }, { timeoutMs });
        return { status: "ok", output: { kind: "write" } };
      case "cas": {
        const compare =
          input.expected === null
            ? {
                key: keyBytes,
                result: Compare_CompareResult.EQUAL,
                target: Compare_CompareTarget.VERSION,
                targetUnion: { case: "version" as const, value: 0n },
              }
            : {
                key: keyBytes,
                result: Compare_CompareResult.EQUAL,
                target: Compare_CompareTarget.VALUE,
                targetUnion: { case: "value" as const, value: encoder.encode(input.expected) },
              };
        const response = await client.kv.txn(
          {
            compare: [compare],
            success: [
              {
                request: {
                  case: "requestPut",
                  value: { key: keyBytes, value: encoder.encode(input.value) },
                },
              },
            ],
          },
          { timeoutMs },
        );
        return { status: "ok", output: { kind: "cas", succeeded: response.succeeded } };
      }
    }
  } catch (cause) {
    const error = ConnectError.from(cause);
    const text = describeStatus(error.code, error.rawMessage);
    if (input.kind === "read") return { status: "fail", error: text };
    const neverSent = error.code === Code.Unavailable && /ECONNREFUSED/.test(error.rawMessage);
    return { status: neverSent || REFUSED.has(error.code) ? "fail" : "unknown", error: text };
  }
}
