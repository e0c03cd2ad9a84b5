import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConnectError } from "@connectrpc/connect";
import { ClusterNotReadyError, ConformanceAssertionError, UsageError } from "../errors.js";
import { selectCases } from "../harness/case-filter.js";
import { type CaseResult, type ConformanceCase, groupOf } from "../harness/conformance-case.js";
import { describeStatus } from "../harness/expect.js";
import { runCases } from "../harness/run-cases.js";
import { raftkvCommand } from "../jepsen/raftkv-driver.js";
import { appendCases } from "./append-cases.js";
import { commitCases } from "./commit-cases.js";
import { FakePeer } from "./fake-peer.js";
import { leaderCases } from "./leader-cases.js";
import {
  attachNode,
  type FakeMemberAddress,
  launchNode,
  type NodeUnderTest,
} from "./node-under-test.js";
import { preVoteCases } from "./pre-vote-cases.js";
import type { RaftCase } from "./raft-case.js";
import {
  type OptionalRaftFeature,
  optionalRaftFeatures,
  type RaftRequirement,
  type RaftTiming,
  ScriptedCluster,
} from "./scripted-cluster.js";
import { streamCases } from "./stream-cases.js";
import { voteCases } from "./vote-cases.js";

/** Every Raft peer case, in the order they run. */
export const raftCases: readonly RaftCase[] = [
  ...voteCases,
  ...preVoteCases,
  ...appendCases,
  ...commitCases,
  ...streamCases,
  ...leaderCases,
];

/** Start a fresh member for every case (`raft --driver raftkv`). */
export interface LaunchMode {
  readonly kind: "launch";
  /** Server command and leading arguments; default the raftkv server of this repository. */
  readonly command?: readonly string[];
  /** Cluster size: the member and `members - 1` fake peers. Default 3. */
  readonly members?: number;
  /** Where each case's member keeps its data and log; default a new temporary directory. */
  readonly baseDir?: string;
  /** Keep every case's data and log after the run (the directory is `baseDir`). */
  readonly keepData?: boolean;
}

/**
 * Drive a member the operator started (`raft --target`), whose --initial-cluster names
 * the fake peers at `peers`; the suite listens there. Cases share the member, each
 * starting from where the last left it; cases that restart the member are skipped.
 */
export interface TargetMode {
  readonly kind: "target";
  /** The member's peer URL, `http://host:port`. */
  readonly peerUrl: string;
  /** The member's client endpoint, `host:port`. */
  readonly clientEndpoint: string;
  readonly peers: readonly FakeMemberAddress[];
}

/** Options of `runRaftSuite`. */
export interface RaftSuiteOptions {
  readonly mode: LaunchMode | TargetMode;
  /** Case names or `prefix*` patterns; default every case. */
  readonly cases?: readonly string[];
  /** What the member does not implement; cases needing it are skipped. Default none. */
  readonly without?: readonly OptionalRaftFeature[];
  /** The member's heartbeat interval (the fake leaders beat as often). Default 100 ms. */
  readonly heartbeatIntervalMs?: number;
  /**
   * The member's election timeout. Default 1 000 ms: short enough that each case learns
   * the member's ids from its first campaign quickly, long enough that a fake leader's
   * heartbeats keep it following on a busy machine.
   */
  readonly electionTimeoutMs?: number;
  /** Time limit of one case, member start included. Default 90 000 ms. */
  readonly caseTimeoutMs?: number;
  /** Called after each case. */
  onResult?(result: CaseResult): void;
}

interface CaseContext {
  readonly cluster: ScriptedCluster;
  dispose(): Promise<void>;
}

/**
 * Runs the Raft peer cases one after another, each on a member driven through
 * `RaftService` by fake peers, and reports each as passed, failed or skipped.
 *
 * @throws UsageError for an unknown case pattern, a cluster size outside 3..7, a
 * fake peer count that does not match, or an unknown `without` feature.
 * @throws DriverError when the suite is to start members and the server is not built
 * (default command).
 * @throws ClusterNotReadyError when a `--target` member does not answer
 * Maintenance.Status, or a fake peer cannot listen on its URL.
 */
export async function runRaftSuite(options: RaftSuiteOptions): Promise<CaseResult[]> {
  const selected = selectCases(raftCases, options.cases ?? []);
  for (const feature of options.without ?? []) {
    if (!(optionalRaftFeatures as readonly string[]).includes(feature)) {
      throw new UsageError(
        `unknown feature ${JSON.stringify(feature)}; known: ${optionalRaftFeatures.join(", ")}`,
      );
    }
  }
  const timing: RaftTiming = {
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? 100,
    electionTimeoutMs: options.electionTimeoutMs ?? 1_000,
  };
  if (!(timing.heartbeatIntervalMs > 0 && timing.electionTimeoutMs > timing.heartbeatIntervalMs)) {
    throw new UsageError("need 0 < heartbeat interval < election timeout");
  }
  const available = new Set<RaftRequirement>(
    optionalRaftFeatures.filter((f) => !(options.without ?? []).includes(f)),
  );
  const mode = options.mode;
  if (mode.kind === "launch") available.add("restart");
  const session = mode.kind === "launch" ? await launchSession(mode) : await targetSession(mode);
  const results: CaseResult[] = [];
  try {
    for (const raftCase of selected) {
      const missing = (raftCase.requires ?? []).filter((r) => !available.has(r));
      if (missing.length > 0) {
        const result = skipped(raftCase, missing);
        results.push(result);
        options.onResult?.(result);
        continue;
      }
      const [result] = await runCases<CaseContext>([asConformanceCase(raftCase)], {
        caseTimeoutMs: options.caseTimeoutMs ?? 90_000,
        createContext: (testCase, signal) =>
          session.createContext(testCase.name, { timing, available, signal }),
        disposeContext: (context) => context.dispose(),
        ...(options.onResult === undefined ? {} : { onResult: options.onResult }),
      });
      results.push(result!);
    }
    return results;
  } finally {
    await session.close();
  }
}

interface Session {
  createContext(
    caseName: string,
    options: { timing: RaftTiming; available: ReadonlySet<RaftRequirement>; signal: AbortSignal },
  ): Promise<CaseContext>;
  close(): Promise<void>;
}

async function launchSession(mode: LaunchMode): Promise<Session> {
  const members = mode.members ?? 3;
  if (!Number.isInteger(members) || members < 3 || members > 7) {
    throw new UsageError(`members must be 3..7 (the member and its fake peers), got ${members}`);
  }
  // A server that is not there is one clear error, not one failure per case.
  raftkvCommand(mode.command);
  const baseDir = mode.baseDir ?? (await mkdtemp(join(tmpdir(), "raftkv-conformance-raft-")));
  return {
    async createContext(caseName, { timing, available, signal }) {
      const peers: FakePeer[] = [];
      let node: NodeUnderTest | undefined;
      const dispose = async (): Promise<void> => {
        await node?.close();
        await Promise.all(peers.map((p) => p.close()));
      };
      try {
        for (let i = 1; i < members; i++) peers.push(await FakePeer.listen({ name: `p${i}` }));
        node = await launchNode({
          fakeMembers: peers.map((p) => ({ name: p.name, url: p.url })),
          ...(mode.command === undefined ? {} : { command: mode.command }),
          baseDir: join(baseDir, caseName),
          keepData: mode.keepData ?? false,
          heartbeatIntervalMs: timing.heartbeatIntervalMs,
          electionTimeoutMs: timing.electionTimeoutMs,
        });
        if (signal.aborted) throw signal.reason;
        const cluster = await ScriptedCluster.discover({ node, peers, timing, available, signal });
        return {
          cluster,
          async dispose() {
            cluster.reset();
            await dispose();
          },
        };
      } catch (error) {
        await dispose();
        throw error;
      }
    },
    async close() {
      if (mode.baseDir === undefined && mode.keepData !== true) {
        await rm(baseDir, { recursive: true, force: true });
      }
    },
  };
}

async function targetSession(mode: TargetMode): Promise<Session> {
  if (mode.peers.length < 2) {
    throw new UsageError("--peers must name at least two fake peers (a cluster of three or more)");
  }
  const node = attachNode(mode.peerUrl, mode.clientEndpoint);
  const peers: FakePeer[] = [];
  try {
    await node.client.maintenance.status({}, { timeoutMs: 15_000 }).catch((cause) => {
      const status = ConnectError.from(cause);
      throw new ClusterNotReadyError(
        `${mode.clientEndpoint} did not answer Maintenance.Status: ${describeStatus(status.code, status.rawMessage)}`,
        { cause },
      );
    });
    for (const address of mode.peers) {
      const url = new URL(address.url);
      const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
      try {
        peers.push(await FakePeer.listen({ name: address.name, host, port: Number(url.port) }));
      } catch (cause) {
        throw new ClusterNotReadyError(
          `fake peer ${address.name} cannot listen on ${address.url}`,
          {
            cause,
          },
        );
      }
    }
  } catch (error) {
    await Promise.all(peers.map((p) => p.close()));
    await node.close();
    throw error;
  }
  return {
    async createContext(_caseName, { timing, available, signal }) {
      for (const peer of peers) peer.reset();
      const cluster = await ScriptedCluster.discover({ node, peers, timing, available, signal });
      return {
        cluster,
        async dispose() {
          cluster.reset();
        },
      };
    },
    async close() {
      await Promise.all(peers.map((p) => p.close()));
      await node.close();
    },
  };
}

function asConformanceCase(raftCase: RaftCase): ConformanceCase<CaseContext> {
  return {
    name: raftCase.name,
    // Every case needs Maintenance.Status, which the runner treats as required: an
    // UNIMPLEMENTED answer fails the case instead of skipping it.
    feature: "maintenance",
    behaviour: raftCase.behaviour,
    reference: raftCase.reference,
    async run(context) {
      try {
        await raftCase.run(context.cluster);
        context.cluster.checkAddressing();
      } catch (error) {
        const log = context.cluster.node.logFile;
        if (error instanceof ConformanceAssertionError && log !== undefined) {
          throw new ConformanceAssertionError(`${error.message} [member log: ${log}]`, {
            cause: error,
          });
        }
        throw error;
      }
    },
  };
}

const REASONS: Record<RaftRequirement, string> = {
  restart: "it restarts the member, which the suite does only for members it starts (--driver)",
  "pre-vote": "the member does not implement pre-vote (--without pre-vote)",
  "check-quorum": "the member does not implement check-quorum (--without check-quorum)",
  "raftkv-entries": "the member's log entries are not raftkv KvRequests (--without raftkv-entries)",
};

function skipped(raftCase: RaftCase, missing: readonly RaftRequirement[]): CaseResult {
  return {
    name: raftCase.name,
    group: groupOf(raftCase.name),
    behaviour: raftCase.behaviour,
    reference: raftCase.reference,
    durationMs: 0,
    outcome: { status: "skipped", reason: missing.map((m) => REASONS[m]).join("; ") },
  };
}
