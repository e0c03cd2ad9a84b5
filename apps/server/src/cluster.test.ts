import { rmSync } from "node:fs";
import { Code, ConnectError } from "@connectrpc/connect";
import { createTestCertificates } from "@raftkv/test-support";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessCluster, type TestMember } from "./test-support/process-cluster.js";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function getValue(
  m: TestMember,
  key: string,
  serializable = false,
): Promise<string | undefined> {
  const res = await m.kv.range({ key: enc.encode(key), serializable }, { timeoutMs: 10_000 });
  return res.kvs[0] ? dec.decode(res.kvs[0].value) : undefined;
}

async function countPrefix(m: TestMember, prefix: string, serializable: boolean): Promise<number> {
  const key = enc.encode(prefix);
  const end = key.slice();
  end[end.length - 1]!++;
  const res = await m.kv.range(
    { key, rangeEnd: end, countOnly: true, serializable },
    { timeoutMs: 10_000 },
  );
  return Number(res.count);
}

async function eventually<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (ok(v)) return v;
      last = v;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`condition not met within ${timeoutMs} ms; last: ${String(last)}`);
}

describe("a 3-member raftkv cluster of real processes", () => {
  let cluster: ProcessCluster;
  beforeAll(async () => {
    cluster = await ProcessCluster.start({ size: 3 });
  }, 120_000);
  afterAll(() => cluster?.close());

  it("takes writes on every member (followers forward to the leader) and reads them back everywhere", async () => {
    for (const m of cluster.members) {
      const res = await m.kv.put({
        key: enc.encode(`/every/${m.name}`),
        value: enc.encode(m.name),
      });
      expect(res.header?.revision).toBeGreaterThan(1n);
    }
    for (const reader of cluster.members) {
      for (const writer of cluster.members) {
        expect(await getValue(reader, `/every/${writer.name}`)).toBe(writer.name);
      }
    }
  });

  it("keeps every acknowledged write when the leader is killed with SIGKILL under write load", async () => {
    const leader = await cluster.waitForLeader();
    const acknowledged = new Map<string, string>();
    let stop = false;
    const writers = cluster.members.map(async (m, w) => {
      let n = 0;
      while (!stop) {
        const key = `/kill/${w}/${n++}`;
        try {
          await m.kv.put({ key: enc.encode(key), value: enc.encode(key) }, { timeoutMs: 3_000 });
          acknowledged.set(key, key);
        } catch {
          // Unknown or failed: not acknowledged, so no promise to keep.
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    await cluster.stop(leader, "SIGKILL");
    await new Promise((r) => setTimeout(r, 3_000));
    stop = true;
    await Promise.all(writers);
    cluster.restart(leader);
    await cluster.waitForLeader();
    expect(acknowledged.size).toBeGreaterThan(20);
    for (const m of cluster.members) {
      await eventually(
        () => countPrefix(m, "/kill/", true),
        (n) => n >= acknowledged.size,
      );
      for (const [key, value] of acknowledged) expect(await getValue(m, key, true)).toBe(value);
    }
  });

  it("brings a follower that was down back up to date", async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.members.find((m) => m.name !== leader)!;
    await cluster.stop(follower.name, "SIGKILL");
    const writer = cluster.member(leader);
    for (let i = 0; i < 300; i++) {
      await writer.kv.put({ key: enc.encode(`/catchup/${i}`), value: enc.encode(String(i)) });
    }
    cluster.restart(follower.name);
    await eventually(
      () => countPrefix(follower, "/catchup/", true),
      (n) => n === 300,
      60_000,
    );
    expect(await getValue(follower, "/catchup/299", true)).toBe("299");
  });

  it("keeps its data across a restart of every member", async () => {
    await cluster.member("m1").kv.put({ key: enc.encode("/restart/k"), value: enc.encode("kept") });
    for (const m of cluster.members) await cluster.stop(m.name, "SIGTERM");
    for (const m of cluster.members) cluster.restart(m.name);
    await cluster.waitForLeader();
    for (const m of cluster.members) expect(await getValue(m, "/restart/k")).toBe("kept");
  });

  it("lets a minority partition take no writes and serve no linearizable reads, and heals", async () => {
    const leader = await cluster.waitForLeader();
    const isolated = cluster.members.find((m) => m.name !== leader)!;
    await cluster
      .member(leader)
      .kv.put({ key: enc.encode("/part/before"), value: enc.encode("1") });
    await eventually(
      () => getValue(isolated, "/part/before", true),
      (v) => v === "1",
    );
    for (const m of cluster.members) {
      await cluster.faults(m.name, {
        action: "partition",
        members: m === isolated ? cluster.members.map((x) => x.name) : [isolated.name],
      });
    }
    // The isolated member must give up on the old leader (an election timeout) and then
    // refuse: its write can never commit, and a linearizable read cannot be confirmed.
    const write = await isolated.kv
      .put({ key: enc.encode("/part/minority"), value: enc.encode("x") }, { timeoutMs: 4_000 })
      .then(
        () => "acknowledged",
        (e: unknown) => ConnectError.from(e).code,
      );
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(write);
    const read = await isolated.kv
      .range({ key: enc.encode("/part/before") }, { timeoutMs: 4_000 })
      .then(
        () => "served",
        (e: unknown) => ConnectError.from(e).code,
      );
    expect([Code.Unavailable, Code.DeadlineExceeded]).toContain(read);
    // Serializable reads are still served from the local state.
    expect(await getValue(isolated, "/part/before", true)).toBe("1");
    // The majority goes on.
    const majority = cluster.members.find((m) => m !== isolated)!;
    await majority.kv.put(
      { key: enc.encode("/part/majority"), value: enc.encode("2") },
      { timeoutMs: 10_000 },
    );
    for (const m of cluster.members) await cluster.faults(m.name, { action: "heal" });
    await eventually(
      () => getValue(isolated, "/part/majority"),
      (v) => v === "2",
    );
    expect(await getValue(majority, "/part/minority")).toBeUndefined();
  });
});

describe("a 3-member cluster with mutual TLS between peers", () => {
  it("elects a leader over TLS and forwards a follower's write to it", async () => {
    const tls = createTestCertificates();
    const cluster = await ProcessCluster.start({ size: 3, tls });
    try {
      const leader = await cluster.waitForLeader();
      const follower = cluster.members.find((m) => m.name !== leader)!;
      await follower.kv.put(
        { key: enc.encode("/tls/k"), value: enc.encode("sealed") },
        { timeoutMs: 10_000 },
      );
      for (const m of cluster.members) {
        await eventually(
          () => getValue(m, "/tls/k", true),
          (v) => v === "sealed",
        );
      }
    } finally {
      await cluster.close();
      rmSync(tls.dir, { recursive: true, force: true });
    }
  });
});
