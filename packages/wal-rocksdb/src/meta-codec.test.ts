import { describe, expect, it } from "vitest";
import {
  decodeIdentity,
  decodeIndex,
  decodeSnapshotMetadata,
  encodeIdentity,
  encodeIndex,
  encodeSnapshotMetadata,
} from "./meta-codec.js";

describe("metadata records", () => {
  it("round-trip snapshot metadata, identity and indexes", () => {
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
    const good = encodeIndex(12);
    const flipped = good.slice();
    flipped[6] = (flipped[6] ?? 0) ^ 1;
    expect(() => decodeIndex(flipped, "applied index")).toThrow(
      /applied index record fails its checksum/,
    );
    expect(() => decodeIndex(good.subarray(0, 3), "applied index")).toThrow(
      /applied index record is 3 bytes/,
    );
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
    expect(() => decodeIndex(longer, "applied index")).toThrow();
  });
});
