import { crc32 } from "node:zlib";
import type { Entry } from "@raftkv/raft-core";
import { describe, expect, it } from "vitest";
import {
  encodeSaveRecord,
  encodeSnapshotRecord,
  framedLength,
  RECORD_HEADER_BYTES,
  readRecord,
} from "./wal-record.js";

const entry = (index: number, term: number, text: string, type: 0 | 1 | 2 = 0): Entry => ({
  index,
  term,
  type,
  data: new TextEncoder().encode(text),
});

const snapshot = {
  index: 2 ** 40,
  term: 7,
  confState: {
    voters: [1, 2],
    learners: [3],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
  },
};

describe("raft WAL records", () => {
  it("round-trip saves (with and without a hard state) and snapshots, padded to 8 bytes", () => {
    const entries = [entry(2 ** 53 - 2, 2 ** 40, "a"), entry(2 ** 53 - 1, 2 ** 40, "", 2)];
    const hardState = { term: 2 ** 40, vote: 3, commit: 2 ** 53 - 3 };
    const records = [
      encodeSaveRecord(hardState, entries),
      encodeSaveRecord(undefined, [entry(1, 1, "x".repeat(1000), 1)]),
      encodeSaveRecord(hardState, []),
      encodeSnapshotRecord(snapshot, true),
      encodeSnapshotRecord(snapshot, false),
    ];
    const buf = Buffer.concat([...records, Buffer.alloc(16)]);
    const read = [];
    for (let at = 0; ; ) {
      const r = readRecord(buf, at);
      if (r.status !== "record") {
        expect(r.status).toBe("end");
        break;
      }
      expect(r.next % 8).toBe(0);
      read.push(r.record);
      at = r.next;
    }
    expect(read).toEqual([
      { kind: "save", hardState, entries },
      { kind: "save", hardState: undefined, entries: [entry(1, 1, "x".repeat(1000), 1)] },
      { kind: "save", hardState, entries: [] },
      { kind: "snapshot", reset: true, snapshot },
      { kind: "snapshot", reset: false, snapshot },
    ]);
    for (const r of records) expect(r.length % 8).toBe(0);
  });

  it("copies entry data out of the segment buffer", () => {
    const buf = encodeSaveRecord(undefined, [entry(1, 1, "abc")]);
    const r = readRecord(buf, 0);
    if (r.status !== "record" || r.record.kind !== "save") throw new Error("expected a save");
    buf.fill(0);
    expect(new TextDecoder().decode(r.record.entries[0]?.data)).toBe("abc");
  });

  it("reports a flipped byte, a length past the end and a malformed body as bad", () => {
    const good = encodeSaveRecord({ term: 1, vote: 1, commit: 0 }, [entry(1, 1, "hello")]);
    const flipped = Buffer.from(good);
    flipped[RECORD_HEADER_BYTES + 5] = (flipped[RECORD_HEADER_BYTES + 5] ?? 0) ^ 1;
    expect(readRecord(flipped, 0)).toEqual({ status: "bad", why: "a record fails its checksum" });
    expect(readRecord(good.subarray(0, good.length - 8), 0)).toMatchObject({
      status: "bad",
      why: expect.stringMatching(/runs past the segment's end/),
    });
    // Entries out of sequence inside one record, with a valid checksum.
    const twice = encodeSaveRecord(undefined, [entry(5, 1, "a"), entry(6, 1, "b")]);
    const body = twice.readUInt32LE(0);
    twice.writeUInt32LE(9, RECORD_HEADER_BYTES + 2 + 21 + 1);

    twice.writeUInt32LE(crc32(twice.subarray(RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + body)), 4);
    expect(readRecord(twice, 0)).toMatchObject({
      status: "bad",
      why: expect.stringMatching(/out of sequence/),
    });
    expect(framedLength(1)).toBe(16);
    expect(readRecord(Buffer.alloc(4), 0)).toEqual({ status: "end" });
  });
});
