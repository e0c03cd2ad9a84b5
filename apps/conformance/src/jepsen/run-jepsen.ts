import { randomBytes } from "node:crypto";
import { UsageError } from "../errors.js";
import { createEtcdClient, type EtcdClient } from "../etcd-client.js";
import type { PartitionedCheckResult } from "../linearizability/partitioned-check.js";
import type { RegisterInput, RegisterOutput } from "../linearizability/register-model.js";
import { checkRegisterHistory } from "./check-register-history.js";
import type { ClusterDriver } from "./cluster-driver.js";
import { allFaults, type FaultKind, runNemesis } from "./nemesis.js";
import type { NemesisEvent, RecordedOperation } from "./recorded-operation.js";
import { runRegisterOperation } from "./register-client.js";
import { createRng } from "./rng.js";

/** Options of `runJepsen`. */
export interface JepsenOptions {
  /** The cluster; `runJepsen` starts and stops it. */
  readonly driver: ClusterDriver;
  /** How long clients run operations. Default 60 000 ms. */
  readonly durationMs?: number;
  /** Concurrent clients. Default 5. */
  readonly clients?: number;
  /** Registers (keys) the clients share. Default 3. */
  readonly keys?: number;
  /** Seed of every random choice (operations, faults, targets). Default: random, reported. */
  readonly seed?: number;
  /** Deadline of one operation. Default 2 000 ms. */
  readonly opTimeoutMs?: number;
  /** Most think time between a client's operations (uniform from 0). Default 20 ms. */
  readonly maxOpDelayMs?: number;
  /** Faults the nemesis injects; empty for none. Default kill, pause, restart. */
  readonly faults?: readonly FaultKind[];
  /** Quiet time between faults, [min, max] ms. Default [1 000, 3 000]. */
  readonly quietMs?: readonly [number, number];
  /** Duration of a kill or pause, [min, max] ms. Default [1 000, 4 000]. */
  readonly faultMs?: readonly [number, number];
  /** Budget of the linearizability check for all keys together. Default 120 000 ms. */
  readonly checkTimeoutMs?: number;
  /**
   * Most operations recorded; clients stop early when the history reaches it, so a
   * long run cannot exhaust memory (or the checker). Default 1 000 000.
   */
  readonly maxOperations?: number;
  /** Prefix of the keys; default `/raftkv-jepsen/<random>/`. */
  readonly keyPrefix?: string;
  /** Progress lines (nemesis events, phases). */
  log?(line: string): void;
}

/** Counts of operations by outcome. */
export interface OperationCounts {
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
}

/** Everything a run produced. */
export interface JepsenResult {
  readonly seed: number;
  readonly keys: readonly string[];
  readonly operations: readonly RecordedOperation[];
  readonly nemesis: readonly NemesisEvent[];
  readonly counts: OperationCounts;
  /** Undefined when the cluster could not be healed and read back. */
  readonly check: PartitionedCheckResult<RegisterInput, RegisterOutput> | undefined;
  /** Time the linearizability check took. */
  readonly checkMs: number;
  /** Why healing or the final reads failed, if they did. */
  readonly healError: string | undefined;
  /** Each key's value read after healing (null: empty), when it could be read. */
  readonly finalValues: ReadonlyMap<string, string | null>;
  readonly startError: string | undefined;
}

const HEAL_TIMEOUT_MS = 60_000;

/**
 * A Jepsen-style test of a register store: `clients` concurrent clients read, write and
 * compare-and-set `keys` keys through the etcd KV API while a nemesis kills (SIGKILL),
 * pauses (SIGSTOP) and restarts members, the leader included. Afterwards the cluster is
 * healed, every key is read once more (so a lost acknowledged write shows as a final
 * read that misses it), and the history is checked for linearizability per key.
 *
 * Never throws for what the cluster does; failures are in the result.
 *
 * @throws UsageError for non-positive counts or durations.
 */
export async function runJepsen(options: JepsenOptions): Promise<JepsenResult> {
  const durationMs = options.durationMs ?? 60_000;
  const clientCount = options.clients ?? 5;
  const keyCount = options.keys ?? 3;
  const opTimeoutMs = options.opTimeoutMs ?? 2_000;
  const maxOpDelayMs = options.maxOpDelayMs ?? 20;
  const maxOperations = options.maxOperations ?? 1_000_000;
  for (const [name, value] of [
    ["duration", durationMs],
    ["clients", clientCount],
    ["keys", keyCount],
    ["op timeout", opTimeoutMs],
    ["max operations", maxOperations],
  ] as const) {
    if (!(Number.isFinite(value) && value > 0))
      throw new UsageError(`${name} must be > 0, got ${value}`);
  }
  const seed = options.seed ?? randomBytes(4).readUInt32LE(0);
  const log = options.log ?? (() => undefined);
  const prefix = options.keyPrefix ?? `/raftkv-jepsen/${randomBytes(4).toString("hex")}/`;
  const keys = Array.from({ length: keyCount }, (_, i) => `${prefix}k${i}`);
  const driver = options.driver;
  const origin = performance.now();
  const now = () => performance.now() - origin;

  const operations: RecordedOperation[] = [];
  const nemesisEvents: NemesisEvent[] = [];
  const empty = (startError?: string): JepsenResult => ({
    seed,
    keys,
    operations,
    nemesis: nemesisEvents,
    counts: { ok: 0, fail: 0, unknown: 0 },
    check: undefined,
    checkMs: 0,
    healError: undefined,
    finalValues: new Map(),
    startError,
  });

  log(`seed ${seed}; ${clientCount} clients, ${keyCount} keys, ${durationMs} ms`);
  try {
    await driver.start();
  } catch (error) {
    await driver.stop().catch(() => undefined);
    return empty(String(error));
  }
  try {
    const endpoints = driver.endpoints();
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => {
      stop = resolve;
    });
    let stopping = false;
    void stopped.then(() => {
      stopping = true;
    });
    let nextId = 0;

    const client = async (clientId: number): Promise<void> => {
      const rng = createRng(seed ^ Math.imul(clientId + 1, 0x9e3779b1));
      const connections: EtcdClient[] = endpoints.map((e) =>
        createEtcdClient(e, { timeoutMs: opTimeoutMs }),
      );
      let at = clientId % endpoints.length;
      const lastRead = new Map<string, string | null>();
      let sequence = 0;
      try {
        while (!stopping) {
          const key = rng.pick(keys);
          const roll = rng.next();
          const value = `${clientId}.${sequence++}`;
          const input: RegisterInput =
            roll < 0.4
              ? { kind: "read" }
              : roll < 0.7
                ? { kind: "write", value }
                : { kind: "cas", expected: lastRead.get(key) ?? null, value };
          const call = now();
          const connection = connections[at]!;
          const outcome = await runRegisterOperation(connection, key, input, opTimeoutMs);
          const ret = now();
          operations.push({
            id: nextId++,
            clientId,
            key,
            endpoint: connection.endpoint,
            input,
            status: outcome.status,
            ...(outcome.output === undefined ? {} : { output: outcome.output }),
            ...(outcome.error === undefined ? {} : { error: outcome.error }),
            call,
            return: outcome.status === "unknown" ? null : ret,
          });
          if (outcome.output?.kind === "read") lastRead.set(key, outcome.output.value);
          if (operations.length >= maxOperations && !stopping) {
            log(`history reached ${maxOperations} operations; stopping the workload early`);
            stop();
          }
          // A member that failed us may be down; try the next one.
          if (outcome.status !== "ok") at = (at + 1) % connections.length;
          if (maxOpDelayMs > 0)
            await new Promise((r) => setTimeout(r, rng.between(0, maxOpDelayMs)));
        }
      } finally {
        for (const c of connections) c.close();
      }
    };

    const nemesis = runNemesis({
      driver,
      rng: createRng(seed),
      faults: options.faults ?? allFaults,
      quietMs: options.quietMs ?? [1_000, 3_000],
      faultMs: options.faultMs ?? [1_000, 4_000],
      now,
      stopped,
      onEvent: (event) => {
        nemesisEvents.push(event);
        log(
          `${(event.time / 1000).toFixed(1)} s: ${event.action} ${event.member}` +
            `${event.wasLeader ? " (leader)" : ""}${event.error === undefined ? "" : ` failed: ${event.error}`}`,
        );
      },
    });
    const clients = Array.from({ length: clientCount }, (_, i) => client(i));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise((resolve) => {
        timer = setTimeout(resolve, durationMs);
      }),
      stopped,
    ]);
    clearTimeout(timer);
    stop();
    await Promise.all(clients);
    await nemesis;
    log(`workload done: ${operations.length} operations; healing`);

    const counts = countOutcomes(operations);
    let healError: string | undefined;
    const finalValues = new Map<string, string | null>();
    try {
      await waitForLeaderEverywhere(endpoints, HEAL_TIMEOUT_MS);
      for (const key of keys) {
        const op = await finalRead(endpoints, key, nextId++, now, opTimeoutMs);
        operations.push(op);
        if (op.output?.kind === "read") finalValues.set(key, op.output.value);
      }
    } catch (error) {
      healError = error instanceof Error ? error.message : String(error);
    }

    log("checking linearizability");
    const checkStarted = performance.now();
    const check = checkRegisterHistory(operations, {
      timeoutMs: options.checkTimeoutMs ?? 120_000,
    });
    const checkMs = performance.now() - checkStarted;
    return {
      seed,
      keys,
      operations,
      nemesis: nemesisEvents,
      counts,
      check,
      checkMs,
      healError,
      finalValues,
      startError: undefined,
    };
  } finally {
    await driver.stop();
  }
}

function countOutcomes(operations: readonly RecordedOperation[]): OperationCounts {
  let ok = 0;
  let fail = 0;
  let unknown = 0;
  for (const op of operations) {
    if (op.status === "ok") ok++;
    else if (op.status === "fail") fail++;
    else unknown++;
  }
  return { ok, fail, unknown };
}

/** Waits until every endpoint answers Status with a leader. */
async function waitForLeaderEverywhere(
  endpoints: readonly string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const endpoint of endpoints) {
    const client = createEtcdClient(endpoint, { timeoutMs: 2_000 });
    try {
      let last = "";
      for (;;) {
        try {
          const status = await client.maintenance.status({});
          if (status.leader !== 0n) break;
          last = "no leader";
        } catch (error) {
          last = String(error);
        }
        if (Date.now() > deadline) {
          throw new Error(`${endpoint} not serving with a leader after healing: ${last}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      client.close();
    }
  }
}

/** A linearizable read of `key` after healing, retried on every endpoint until it works. */
async function finalRead(
  endpoints: readonly string[],
  key: string,
  id: number,
  now: () => number,
  opTimeoutMs: number,
): Promise<RecordedOperation> {
  const deadline = Date.now() + HEAL_TIMEOUT_MS;
  let attempt = 0;
  for (;;) {
    const endpoint = endpoints[attempt++ % endpoints.length]!;
    const client = createEtcdClient(endpoint, { timeoutMs: opTimeoutMs });
    try {
      const call = now();
      const outcome = await runRegisterOperation(client, key, { kind: "read" }, opTimeoutMs);
      if (outcome.status === "ok" && outcome.output !== undefined) {
        return {
          id,
          clientId: -1,
          key,
          endpoint,
          input: { kind: "read" },
          status: "ok",
          output: outcome.output,
          call,
          return: now(),
        };
      }
      if (Date.now() > deadline) throw new Error(`final read of ${key} failed: ${outcome.error}`);
    } finally {
      client.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
