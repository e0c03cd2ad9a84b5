import { createEtcdClient } from "../etcd-client.js";
import type { ClusterDriver, MemberInfo } from "./cluster-driver.js";
import type { NemesisEvent } from "./recorded-operation.js";
import type { Rng } from "./rng.js";

/** The process faults the nemesis can inject. */
export type FaultKind = "kill" | "pause" | "restart";

export const allFaults: readonly FaultKind[] = ["kill", "pause", "restart"];

/** Options of `runNemesis`. */
export interface NemesisOptions {
  readonly driver: ClusterDriver;
  readonly rng: Rng;
  /** Faults to choose from; empty for a run without faults. */
  readonly faults: readonly FaultKind[];
  /** Quiet time between faults, in ms: [min, max]. */
  readonly quietMs: readonly [number, number];
  /** How long a kill or pause lasts before it is healed, in ms: [min, max]. */
  readonly faultMs: readonly [number, number];
  /** Milliseconds since the run started, for event times. */
  now(): number;
  /** Resolves when the nemesis must stop injecting (the workload is ending). */
  readonly stopped: Promise<void>;
  onEvent(event: NemesisEvent): void;
}

/**
 * Finds the current leader: the member whose Status says it leads (leader ==
 * header.member_id). `undefined` when no member claims it (an election is running, or
 * the leader is paused).
 */
export async function findLeader(members: readonly MemberInfo[]): Promise<MemberInfo | undefined> {
  const answers = await Promise.all(
    members.map(async (member) => {
      const client = createEtcdClient(member.endpoint, { timeoutMs: 1_000 });
      try {
        const status = await client.maintenance.status({});
        return status.leader !== 0n && status.leader === status.header?.memberId
          ? member
          : undefined;
      } catch {
        return undefined;
      } finally {
        client.close();
      }
    }),
  );
  return answers.find((member) => member !== undefined);
}

/**
 * Injects one fault at a time until `stopped`: waits a quiet interval, picks a fault
 * kind, and targets the leader every other round and otherwise the next member in
 * turn, so every member, the leader included, gets hit. A kill or pause is healed
 * (restart, resume) after a random duration; a restart is a SIGTERM and start in one.
 * At most one member is down at a time, so a majority stays up. The last fault is
 * healed before returning.
 */
export async function runNemesis(options: NemesisOptions): Promise<void> {
  const { driver, rng } = options;
  if (options.faults.length === 0) return;
  const members = driver.members();
  let stopped = false;
  void options.stopped.then(() => {
    stopped = true;
  });
  const sleep = (ms: number) =>
    Promise.race([new Promise((resolve) => setTimeout(resolve, ms)), options.stopped]);
  const record = (event: Omit<NemesisEvent, "time">) =>
    options.onEvent({ time: options.now(), ...event });

  let round = 0;
  let rotation = 0;
  while (!stopped) {
    await sleep(rng.between(options.quietMs[0], options.quietMs[1]));
    if (stopped) break;
    const kind = rng.pick(options.faults);
    const leader = await findLeader(members);
    let target: MemberInfo;
    if (round % 2 === 0 && leader !== undefined) {
      target = leader;
    } else {
      target = members[rotation % members.length]!;
      rotation++;
    }
    round++;
    const wasLeader = leader?.name === target.name;
    try {
      if (kind === "restart") {
        record({ action: "restart", member: target.name, wasLeader });
        await driver.restart(target.name);
        continue;
      }
      if (kind === "kill") await driver.kill(target.name);
      else await driver.pause(target.name);
      record({ action: kind, member: target.name, wasLeader });
    } catch (error) {
      record({ action: kind, member: target.name, wasLeader, error: String(error) });
      continue;
    }
    // Heal even when the workload ends mid-fault.
    await sleep(rng.between(options.faultMs[0], options.faultMs[1]));
    try {
      if (kind === "kill") {
        await driver.restart(target.name);
        record({ action: "start", member: target.name });
      } else {
        await driver.resume(target.name);
        record({ action: "resume", member: target.name });
      }
    } catch (error) {
      record({
        action: kind === "kill" ? "start" : "resume",
        member: target.name,
        error: String(error),
      });
    }
  }
}
