import { afterEach, describe, expect, it } from "vitest";
import { InvalidTransportOptionError } from "./errors.js";
import { FaultInjectingTransport, PartitionedError } from "./fault-injection.js";
import { createPeerTransport, type PeerTransport } from "./peer-transport.js";
import { heartbeat, snapshotMessage } from "./test-support/messages.js";
import { eventually, RecordingHandler } from "./test-support/recording-handler.js";

const CLUSTER = 3n;
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** Member 1 behind a fault injector, members 2 and 3 plain, all on loopback sockets. */
async function cluster(seed = 1) {
  const transports: PeerTransport[] = [1, 2, 3].map((id) =>
    createPeerTransport({ id, clusterId: CLUSTER, listen: ["http://127.0.0.1:0"] }),
  );
  const faulty = new FaultInjectingTransport(transports[0]!, { seed });
  const handlers = [new RecordingHandler(), new RecordingHandler(), new RecordingHandler()];
  await faulty.start(handlers[0]!);
  await transports[1]!.start(handlers[1]!);
  await transports[2]!.start(handlers[2]!);
  closers.push(
    () => faulty.close(),
    () => transports[1]!.close(),
    () => transports[2]!.close(),
  );
  const urls = transports.map((t) => t.addresses()[0]!.href);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) {
      if (i === j) continue;
      if (i === 0) faulty.addPeer(j + 1, [urls[j]!]);
      else transports[i]!.addPeer(j + 1, [urls[j]!]);
    }
  }
  const [h1, h2, h3] = handlers as [RecordingHandler, RecordingHandler, RecordingHandler];
  return { faulty, m2: transports[1]!, m3: transports[2]!, h1, h2, h3 };
}

describe("FaultInjectingTransport over real sockets", () => {
  it("partitions a peer in both directions until healed", async () => {
    const { faulty, m2, m3, h1, h2, h3 } = await cluster();
    faulty.partition([2]);
    faulty.send([heartbeat(1, 2, 1), heartbeat(1, 3, 1)]);
    m2.send([heartbeat(2, 1, 1)]);
    m3.send([heartbeat(3, 1, 1)]);
    await h3.until(() => h3.messages.length === 1, "member 3 to hear from 1");
    await h1.until(() => h1.messages.length === 1, "member 1 to hear from 3");
    // One message to 2 dropped on the way out, one from 2 dropped on the way in.
    await eventually(() => faulty.state().dropped === 2, "both directions to be cut");
    expect(h1.messages.map((m) => m.from)).toEqual([3]);
    await expect(
      faulty.sendSnapshot(snapshotMessage(1, 2, 5), (async function* () {})()),
    ).rejects.toBeInstanceOf(PartitionedError);

    faulty.heal();
    faulty.send([heartbeat(1, 2, 2)]);
    m2.send([heartbeat(2, 1, 2)]);
    await h2.until(
      () => h2.messages.some((m) => m.commit === 2),
      "member 2 to hear from 1 after healing",
    );
    await h1.until(
      () => h1.messages.some((m) => m.from === 2),
      "member 1 to hear from 2 after healing",
    );
    expect(h2.messages.some((m) => m.commit === 1)).toBe(false);
    expect(faulty.state().partitioned).toEqual([]);
  });

  it("drops about the configured share of messages to one peer, the same ones for the same seed", async () => {
    const run = async () => {
      const { faulty, h2, h3 } = await cluster(42);
      faulty.setDropRate(0.3, 2);
      for (let i = 0; i < 1000; i++) faulty.send([heartbeat(1, 2, i), heartbeat(1, 3, i)]);
      await h3.until(() => h3.messages.length === 1000, "all 1000 messages at member 3");
      const expected = 1000 - faulty.state().dropped;
      await h2.until(() => h2.messages.length === expected, `${expected} messages at member 2`);
      return h2.messages.map((m) => m.commit);
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(600);
    expect(first.length).toBeLessThan(800);
    expect(await run()).toEqual(first);
  });

  it("duplicates messages", async () => {
    const { faulty, h2 } = await cluster();
    faulty.setDuplicateRate(1);
    faulty.send([heartbeat(1, 2, 7)]);
    await h2.until(() => h2.messages.length === 2, "two copies");
    expect(h2.messages.map((m) => m.commit)).toEqual([7, 7]);
  });

  it("delays messages, and drops those whose peer was partitioned meanwhile", async () => {
    const { faulty, h2, h3 } = await cluster();
    faulty.setDelay(200, 0, 2);
    faulty.send([heartbeat(1, 2, 1), heartbeat(1, 3, 1)]);
    await h3.until(() => h3.messages.length === 1, "the undelayed message");
    await h2.until(() => h2.messages.length === 1, "the delayed message");
    faulty.send([heartbeat(1, 2, 2)]);
    faulty.partition([2]);
    await new Promise((r) => setTimeout(r, 400));
    expect(h2.messages).toHaveLength(1);
    expect(faulty.state()).toMatchObject({ delayed: 2, dropped: 1 });
  });

  it("refuses rates outside [0, 1] and negative delays", async () => {
    const { faulty } = await cluster();
    expect(() => faulty.setDropRate(1.5)).toThrow(InvalidTransportOptionError);
    expect(() => faulty.setDelay(-1)).toThrow(InvalidTransportOptionError);
  });
});
