import type { RegisterInput, RegisterOutput } from "../linearizability/register-model.js";

/**
 * How an operation ended, in Jepsen's terms: `ok` (it happened, with this output),
 * `fail` (it definitely did not happen), `unknown` (it may have happened: a timeout or
 * a connection lost after the request was sent).
 */
export type OperationStatus = "ok" | "fail" | "unknown";

/** One client operation of a run, as recorded (and saved with --history). */
export interface RecordedOperation {
  readonly id: number;
  /** The client that ran it; -1 for the final reads after healing. */
  readonly clientId: number;
  readonly key: string;
  /** The member it was sent to. */
  readonly endpoint: string;
  readonly input: RegisterInput;
  readonly status: OperationStatus;
  /** Present when `status` is "ok". */
  readonly output?: RegisterOutput;
  /** Why it failed or is unknown: the gRPC status. */
  readonly error?: string;
  /** Milliseconds since the run started, on one monotonic clock. */
  readonly call: number;
  /** `null` when unknown: it may take effect any time after `call`. */
  readonly return: number | null;
}

/** A fault the nemesis injected or healed. */
export interface NemesisEvent {
  readonly time: number;
  readonly action: "kill" | "pause" | "restart" | "resume" | "start" | "heal-all";
  readonly member: string;
  /** Whether the member was the leader when the fault was injected. */
  readonly wasLeader?: boolean;
  readonly error?: string;
}
