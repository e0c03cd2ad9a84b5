import { randomBytes } from "node:crypto";
import { ConnectError } from "@connectrpc/connect";
import { ClusterNotReadyError, UsageError } from "../errors.js";
import { createEtcdClient, type EtcdClient } from "../etcd-client.js";
import { selectCases } from "../harness/case-filter.js";
import type { CaseResult, Feature } from "../harness/conformance-case.js";
import { describeStatus } from "../harness/expect.js";
import { runCases } from "../harness/run-cases.js";
import { type ApiCase, type ApiContext, type ApiLimits, etcdDefaultLimits } from "./api-context.js";
import { clusterCases } from "./cluster-cases.js";
import { kvCompactionCases } from "./kv-compaction-cases.js";
import { bytes, prefixEnd } from "./kv-helpers.js";
import { kvLimitCases } from "./kv-limit-cases.js";
import { kvPutDeleteCases } from "./kv-put-delete-cases.js";
import { kvRangeCases } from "./kv-range-cases.js";
import { kvTxnCases } from "./kv-txn-cases.js";
import { leaseCases } from "./lease-cases.js";
import { maintenanceCases } from "./maintenance-cases.js";
import { watchCases } from "./watch-cases.js";

/** Every API case, in the order they run. New services add their list here. */
export const apiCases: readonly ApiCase[] = [
  ...kvRangeCases,
  ...kvPutDeleteCases,
  ...kvTxnCases,
  ...kvCompactionCases,
  ...kvLimitCases,
  ...maintenanceCases,
  ...watchCases,
  ...leaseCases,
  ...clusterCases,
];

/** Options of `runApiSuite`. */
export interface ApiSuiteOptions {
  /** `host:port` of each member to test; the first one takes most calls. */
  readonly endpoints: readonly string[];
  /** Case names or `prefix*` patterns; default: every case. */
  readonly cases?: readonly string[];
  /**
   * Features whose UNIMPLEMENTED answers fail (default kv, maintenance); cases of other
   * features are skipped when the server does not implement them.
   */
  readonly requiredFeatures?: readonly Feature[];
  /** The server's limits; default etcd's (`etcdDefaultLimits`). */
  readonly limits?: Partial<ApiLimits>;
  /** Time limit of one case. Default 60 000 ms. */
  readonly caseTimeoutMs?: number;
  /**
   * Prefix of every key the suite writes; default `/raftkv-conformance/<random>/`. Each
   * case adds its name, and deletes its keys when it ends.
   */
  readonly keyPrefix?: string;
  /** Called after each case. */
  onResult?(result: CaseResult): void;
}

const PREFLIGHT_TIMEOUT_MS = 15_000;

/**
 * Runs the API conformance cases against `endpoints` one after another. The suite
 * writes only under its key prefix, but compaction cases compact the whole store's
 * history, and the revision cases assume no one else writes during the run: point it
 * at a server (or cluster) of its own.
 *
 * @throws UsageError for no endpoints or an unknown case pattern.
 * @throws InvalidEndpointError for a malformed endpoint.
 * @throws ClusterNotReadyError when an endpoint does not answer a Range before any
 * case runs (so one unreachable server is one clear error, not a hundred failures).
 */
export async function runApiSuite(options: ApiSuiteOptions): Promise<CaseResult[]> {
  if (options.endpoints.length === 0) throw new UsageError("no endpoints given");
  const selected = selectCases(apiCases, options.cases ?? []);
  const limits: ApiLimits = { ...etcdDefaultLimits, ...options.limits };
  const runPrefix = options.keyPrefix ?? `/raftkv-conformance/${randomBytes(6).toString("hex")}/`;
  const clients = options.endpoints.map((endpoint) => createEtcdClient(endpoint));
  try {
    await preflight(clients, bytes(runPrefix));
    return await runCases<ApiContext>(selected, {
      ...(options.requiredFeatures === undefined
        ? {}
        : { requiredFeatures: options.requiredFeatures }),
      ...(options.caseTimeoutMs === undefined ? {} : { caseTimeoutMs: options.caseTimeoutMs }),
      ...(options.onResult === undefined ? {} : { onResult: options.onResult }),
      createContext(testCase, signal) {
        const prefix = bytes(`${runPrefix}${testCase.name}/`);
        return {
          client: clients[0]!,
          clients,
          prefix,
          key: (name) => {
            const key = new Uint8Array(prefix.length + Buffer.byteLength(name));
            key.set(prefix);
            key.set(bytes(name), prefix.length);
            return key;
          },
          limits,
          signal,
        };
      },
      async disposeContext(context) {
        await context.client.kv.deleteRange(
          { key: context.prefix, rangeEnd: prefixEnd(context.prefix) },
          { timeoutMs: 10_000 },
        );
      },
    });
  } finally {
    for (const client of clients) client.close();
  }
}

async function preflight(clients: readonly EtcdClient[], probeKey: Uint8Array): Promise<void> {
  for (const client of clients) {
    try {
      await client.kv.range({ key: probeKey }, { timeoutMs: PREFLIGHT_TIMEOUT_MS });
    } catch (cause) {
      const status = ConnectError.from(cause);
      throw new ClusterNotReadyError(
        `${client.endpoint} did not answer KV.Range: ${describeStatus(status.code, status.rawMessage)}`,
        { cause },
      );
    }
  }
}
