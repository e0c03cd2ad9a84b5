// Child process of process.test.ts: appends synced batches to a data dir as fast as it can,
// several saves in flight at once (so group commit merges them), and prints one line per
// acknowledged save. The parent SIGKILLs it at a random moment and checks the data dir.
//   node crash-writer.mjs <dir> <seed> <journal> [walSegmentBytes]
// Saves and acks are appended to the journal file with writeSync: a pipe would buffer
// them in this process when the reader is slow, and SIGKILL would lose them.
import { openSync, writeSync } from "node:fs";
import { openRocksStorage } from "../../dist/index.js";

const [dir, seedArg, journalPath, segmentArg] = process.argv.slice(2);
const journal = openSync(journalPath, "a");
const record = (line) => writeSync(journal, `${line}\n`);
let seed = Number(seedArg) >>> 0 || 1;
const rand = () => {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed / 2 ** 32;
};

/** The payload of entry (index, term); the parent recomputes it to check integrity. */
export function payload(index, term) {
  const text = `entry ${index} term ${term} `;
  return new TextEncoder().encode(text.repeat(1 + (index % 7)));
}

const storage = await openRocksStorage({
  dir,
  clusterId: "crash-test",
  memberId: 1,
  walSegmentBytes: segmentArg === undefined ? undefined : Number(segmentArg),
});
const { logStore } = storage;
const { hardState } = await logStore.load();
let term = Math.max(1, hardState.term);
let commit = hardState.commit;
process.stdout.write(`ready ${logStore.lastIndex()} ${term}\n`);

const inFlight = new Set();
for (;;) {
  while (inFlight.size < 4) {
    let first = logStore.lastIndex() + 1;
    if (rand() < 0.05) {
      // A new leader overwrites a short uncommitted suffix with entries of its term.
      term++;
      first = Math.max(commit + 1, logStore.firstIndex(), first - Math.floor(rand() * 3));
    }
    const count = 1 + Math.floor(rand() * 16);
    const entries = [];
    for (let i = first; i < first + count; i++) {
      entries.push({ index: i, term, type: 0, data: payload(i, term) });
    }
    commit = Math.max(commit, first + count - 1 - 5, 0);
    const hs = { term, vote: 1, commit };
    // Recorded before the save starts, so the parent knows every save that may have
    // reached the disk.
    record(`save ${first} ${count} ${term} ${commit}`);
    const p = logStore.save(hs, entries, { sync: true }).then(() => {
      inFlight.delete(p);
      record(`ack ${first}`);
    });
    inFlight.add(p);
    if (rand() < 0.03 && commit - 2 > logStore.firstIndex()) {
      const at = commit - 2;
      const c = logStore.compact(at, {
        voters: [1],
        learners: [],
        votersOutgoing: [],
        learnersNext: [],
        autoLeave: false,
      });
      inFlight.add(c);
      c.then(() => inFlight.delete(c));
    }
  }
  await Promise.race(inFlight);
}
