import { describe, expect, it } from "vitest";
import {
  decodeHardState,
  decodeIdentity,
  decodeIndex,
  decodeSnapshotMetadata,
  encodeHardState,
  encodeIdentity,
  encodeIndex,
  encodeSnapshotMetadata,
} from "./meta-codec.js";

describe("metadata records", () => {
  it("round-trip hard state, snapshot metadata, identity and indexes", () => {
    const hs = { term: 9, vote: 3, commit: 2 ** 50 };
    expect(decodeHardState(encodeHardState(hs))).toEqual(hs);
    const snap = {
      index: 100,
      term: 4,
      confState: {
        voters: [1, 2, 3],
        learners: [4],
        votersOutgoing: [1, 2],
        learnersNext: [5],
        autoLeave: true,
      },
    };
    expect(decodeSnapshotMetadata(encodeSnapshotMetadata(snap))).toEqual(snap);
    const id = { formatVersion: 1, clusterId: "clüster-1", memberId: 2 ** 45 };
    expect(decodeIdentity(encodeIdentity(id))).toEqual(id);
    expect(decodeIndex(encodeIndex(77), "applied index")).toBe(77);
  });

  it("rejects damaged, truncated or extended records with a message naming the record", () => {
    const good = encodeHardState({ term: 1, vote: 1, commit: 1 });
    const flipped = good.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(() => decodeHardState(flipped)).toThrow(/hard state record fails its checksum/);
    expect(() => decodeHardState(good.subarray(0, 3))).toThrow(/hard state record is 3 bytes/);
    const longer = encodeSnapshotMetadata({
      index: 1,
      term: 1,
      confState: {
        voters: [],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      },
    });
    expect(() => decodeHardState(longer)).toThrow();
  });
});
