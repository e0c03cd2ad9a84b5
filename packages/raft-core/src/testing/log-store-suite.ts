import type { LogStore } from "../log-store.js";
import { type ConfState, type Entry, EntryType, type HardState } from "../types.js";

/** A LogStore under test, on fresh, empty storage, and a way to reopen it on the same data. */
export interface LogStoreHarness {
  /** The store, not yet loaded; each check calls `load()` first. */
  store: LogStore;
  /**
   * Closes `store` (if still open) and opens a new store on the same data, as a restart
   * would. Everything a synced save wrote must be there; the suite always syncs before it.
   */
  reopen(): Promise<LogStore>;
  /** Releases the storage (deletes temporary files). Called once per check, even on failure. */
  cleanup(): Promise<void>;
}

/** One behaviour check of the suite. */
export interface LogStoreCheck {
  /** States the rule checked, as a test name. */
  name: string;
  /** Runs the check on a fresh harness; rejects with LogStoreSuiteError when the rule is broken. */
  run(): Promise<void>;
}

/** A broken LogStore rule; the message names what was expected and what was found. */
export class LogStoreSuiteError extends Error {
  readonly code = "LOG_STORE_SUITE";
}

function fail(message: string): never {
  throw new LogStoreSuiteError(message);
}

function eq(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) fail(`${what}: expected ${e}, got ${a}`);
}

const enc = new TextEncoder();

function entry(
  index: number,
  term: number,
  payload = `e${index}t${term}`,
  type: EntryType = EntryType.Normal,
): Entry {
  return { index, term, type, data: enc.encode(payload) };
}

function range(lo: number, hi: number, term: number, size?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) {
    out.push(
      size === undefined
        ? entry(i, term)
        : { index: i, term, type: EntryType.Normal, data: new Uint8Array(size).fill(i & 0xff) },
    );
  }
  return out;
}

/** Compares entries by index, term, type and data bytes (stores may return Buffers). */
function sameEntries(actual: readonly Entry[], expected: readonly Entry[], what: string): void {
  if (actual.length !== expected.length) {
    fail(`${what}: expected ${expected.length} entries, got ${actual.length}`);
  }
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (a.index !== e.index || a.term !== e.term || a.type !== e.type) {
      fail(
        `${what}: entry ${i} expected index ${e.index} term ${e.term} type ${e.type}, ` +
          `got index ${a.index} term ${a.term} type ${a.type}`,
      );
    }
    if (!(a.data instanceof Uint8Array)) fail(`${what}: entry ${e.index} data is not a Uint8Array`);
    if (a.data.byteLength !== e.data.byteLength || !a.data.every((b, k) => b === e.data[k])) {
      fail(`${what}: entry ${e.index} data differs`);
    }
  }
}

async function expectCode(code: string, what: string, f: () => unknown): Promise<void> {
  try {
    await f();
  } catch (e) {
    const c = (e as { code?: unknown }).code;
    if (c !== code)
      fail(`${what}: expected an error with code ${code}, got ${String(c)} (${String(e)})`);
    return;
  }
  fail(`${what}: expected an error with code ${code}, but it succeeded`);
}

async function expectRejects(what: string, f: () => Promise<unknown>): Promise<void> {
  try {
    await f();
  } catch {
    return;
  }
  fail(`${what}: expected a rejection, but it succeeded`);
}

const CONF: ConfState = {
  voters: [1, 2, 3],
  learners: [4],
  votersOutgoing: [],
  learnersNext: [],
  autoLeave: false,
};

const SYNC = { sync: true };
const ALL = Number.MAX_SAFE_INTEGER;

type Body = (h: LogStoreHarness) => Promise<void>;

const checks: Array<[string, Body]> = [
  [
    "an empty store loads a zero hard state, an empty configuration and an empty log",
    async ({ store }) => {
      const init = await store.load();
      eq(init.hardState, { term: 0, vote: 0, commit: 0 }, "hard state");
      eq(init.confState.voters, [], "voters");
      eq(store.firstIndex(), 1, "firstIndex");
      eq(store.lastIndex(), 0, "lastIndex");
      eq(store.term(0), 0, "term(0)");
      const s = store.snapshotMetadata();
      eq([s.index, s.term], [0, 0], "snapshot index and term");
    },
  ],
  [
    "saved entries and hard state are readable at once and after reopening",
    async (h) => {
      await h.store.load();
      const hs: HardState = { term: 3, vote: 2, commit: 4 };
      const ents = [...range(1, 2, 1), ...range(3, 5, 3)];
      ents[2] = entry(3, 3, "conf", EntryType.ConfChangeV2);
      await h.store.save(hs, ents, SYNC);
      sameEntries(h.store.entries(1, 6, ALL), ents, "entries before reopening");
      eq(h.store.term(3), 3, "term(3)");
      const s = await h.reopen();
      const init = await s.load();
      eq(init.hardState, hs, "hard state after reopening");
      eq([s.firstIndex(), s.lastIndex()], [1, 5], "first and last index after reopening");
      sameEntries(s.entries(1, 6, ALL), ents, "entries after reopening");
      eq([s.term(1), s.term(2), s.term(5)], [1, 1, 3], "terms after reopening");
    },
  ],
  [
    "a hard state saved without entries persists, and a later one replaces it",
    async (h) => {
      await h.store.load();
      await h.store.save({ term: 1, vote: 1, commit: 0 }, [], SYNC);
      await h.store.save({ term: 2, vote: 0, commit: 0 }, [], SYNC);
      // Commit alone may be saved unsynced; it is still visible while open.
      await h.store.save({ term: 2, vote: 0, commit: 0 }, range(1, 1, 2), SYNC);
      await h.store.save({ term: 2, vote: 0, commit: 1 }, [], { sync: false });
      await h.store.save(undefined, range(2, 2, 2), SYNC);
      const init = await (await h.reopen()).load();
      eq(init.hardState, { term: 2, vote: 0, commit: 1 }, "hard state after reopening");
    },
  ],
  [
    "appending below the last index replaces the conflicting suffix",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 5, 1), SYNC);
      await h.store.save(undefined, range(3, 4, 2), SYNC);
      eq(h.store.lastIndex(), 4, "lastIndex after truncation");
      eq([h.store.term(2), h.store.term(3), h.store.term(4)], [1, 2, 2], "terms after truncation");
      await expectCode("UNAVAILABLE", "term(5) after truncation", () => h.store.term(5));
      const s = await h.reopen();
      await s.load();
      eq(s.lastIndex(), 4, "lastIndex after reopening");
      sameEntries(
        s.entries(1, 5, ALL),
        [...range(1, 2, 1), ...range(3, 4, 2)],
        "entries after reopening",
      );
      await s.save(undefined, range(5, 6, 3), SYNC);
      eq(s.lastIndex(), 6, "lastIndex after appending again");
    },
  ],
  [
    "an append that would leave a gap is rejected and changes nothing",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 3, 1), SYNC);
      await expectRejects("append at lastIndex + 2", () =>
        h.store.save(undefined, range(5, 6, 1), SYNC),
      );
      eq(h.store.lastIndex(), 3, "lastIndex after the rejected append");
    },
  ],
  [
    "compact discards entries up to the index and records the snapshot point with its configuration",
    async (h) => {
      await h.store.load();
      await h.store.save(
        { term: 2, vote: 1, commit: 10 },
        [...range(1, 5, 1), ...range(6, 10, 2)],
        SYNC,
      );
      await h.store.compact(6, CONF);
      eq([h.store.firstIndex(), h.store.lastIndex()], [7, 10], "first and last index");
      eq(h.store.term(6), 2, "term at the snapshot point");
      await expectCode("COMPACTED", "term(5)", () => h.store.term(5));
      await expectCode("COMPACTED", "entries(6, 8)", () => h.store.entries(6, 8, ALL));
      const meta = h.store.snapshotMetadata();
      eq(
        [meta.index, meta.term, meta.confState.voters, meta.confState.learners],
        [6, 2, [1, 2, 3], [4]],
        "snapshot metadata",
      );
      const s = await h.reopen();
      const init = await s.load();
      eq(init.confState.voters, [1, 2, 3], "voters after reopening");
      eq(init.confState.learners, [4], "learners after reopening");
      eq([s.firstIndex(), s.lastIndex(), s.term(6)], [7, 10, 2], "log after reopening");
      sameEntries(s.entries(7, 11, ALL), range(7, 10, 2), "entries after reopening");
    },
  ],
  [
    "compacting beyond the last index is rejected",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 3, 1), SYNC);
      await expectRejects("compact(5)", () => h.store.compact(5, CONF));
      eq([h.store.firstIndex(), h.store.lastIndex()], [1, 3], "log after the rejected compaction");
    },
  ],
  [
    "applySnapshot replaces the whole log with the snapshot point",
    async (h) => {
      await h.store.load();
      await h.store.save({ term: 1, vote: 0, commit: 2 }, range(1, 5, 1), SYNC);
      await h.store.applySnapshot({ index: 10, term: 3, confState: CONF });
      eq(
        [h.store.firstIndex(), h.store.lastIndex(), h.store.term(10)],
        [11, 10, 3],
        "log after the snapshot",
      );
      await expectCode("COMPACTED", "term(9)", () => h.store.term(9));
      await h.store.save({ term: 3, vote: 0, commit: 10 }, range(11, 12, 3), SYNC);
      const s = await h.reopen();
      const init = await s.load();
      eq(init.confState.voters, [1, 2, 3], "voters after reopening");
      eq(
        [s.firstIndex(), s.lastIndex(), s.term(10), s.term(12)],
        [11, 12, 3, 3],
        "log after reopening",
      );
      eq([s.snapshotMetadata().index, s.snapshotMetadata().term], [10, 3], "snapshot metadata");
    },
  ],
  [
    "applySnapshot inside the current log also drops the entries after it",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 8, 1), SYNC);
      await h.store.applySnapshot({ index: 5, term: 2, confState: CONF });
      eq(
        [h.store.firstIndex(), h.store.lastIndex(), h.store.term(5)],
        [6, 5, 2],
        "log after the snapshot",
      );
      await expectCode("UNAVAILABLE", "term(6)", () => h.store.term(6));
    },
  ],
  [
    "term and entries reject indexes outside the log with COMPACTED and UNAVAILABLE",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 10, 1), SYNC);
      await h.store.compact(4, CONF);
      await expectCode("COMPACTED", "term(3)", () => h.store.term(3));
      await expectCode("UNAVAILABLE", "term(11)", () => h.store.term(11));
      await expectCode("COMPACTED", "entries(4, 6)", () => h.store.entries(4, 6, ALL));
      await expectCode("UNAVAILABLE", "entries(9, 12)", () => h.store.entries(9, 12, ALL));
      eq(h.store.term(4), 1, "term(firstIndex - 1)");
      eq(h.store.entries(5, 5, ALL).length, 0, "entries of an empty range");
      sameEntries(h.store.entries(5, 11, ALL), range(5, 10, 1), "entries(5, 11)");
    },
  ],
  [
    "entries stops before maxBytes but always returns at least one entry",
    async (h) => {
      await h.store.load();
      await h.store.save(undefined, range(1, 10, 1, 100), SYNC);
      eq(h.store.entries(1, 11, 250).length, 2, "entries within 250 bytes");
      eq(h.store.entries(1, 11, 300).length, 3, "entries within exactly 300 bytes");
      eq(h.store.entries(1, 11, 10).length, 1, "entries when one exceeds maxBytes");
      eq(h.store.entries(1, 11, 0).length, 1, "entries with maxBytes 0");
      eq(h.store.entries(3, 11, ALL).length, 8, "entries without a limit");
    },
  ],
  [
    "a log of many entries survives reopening intact",
    async (h) => {
      await h.store.load();
      const all: Entry[] = [];
      for (let b = 0; b < 20; b++) {
        const batch = range(b * 50 + 1, b * 50 + 50, 1 + (b >> 2));
        all.push(...batch);
        await h.store.save({ term: 1 + (b >> 2), vote: 1, commit: b * 50 }, batch, SYNC);
      }
      const s = await h.reopen();
      await s.load();
      eq(s.lastIndex(), 1000, "lastIndex after reopening");
      sameEntries(s.entries(1, 1001, ALL), all, "entries after reopening");
    },
  ],
];

/**
 * The behaviour every `LogStore` must have (as openraft's storage suite does for its
 * stores), as framework-free checks. Run them from any test runner, e.g. with vitest:
 *
 * ```ts
 * describe("MyLogStore", () => {
 *   for (const check of logStoreSuite(makeHarness)) it(check.name, check.run);
 * });
 * ```
 *
 * `factory` is called once per check and must give a store on fresh, empty storage.
 */
export function logStoreSuite(factory: () => Promise<LogStoreHarness>): LogStoreCheck[] {
  return checks.map(([name, body]) => ({
    name,
    run: async () => {
      const h = await factory();
      try {
        await body(h);
      } finally {
        await h.cleanup();
      }
    },
  }));
}
