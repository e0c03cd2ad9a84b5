import { execFileSync, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { runReadmeExample } from "@raftkv/test-support";
import { afterAll, beforeAll, expect, it } from "vitest";
import { DataDirLockedError } from "./errors.js";
import { openRocksStorage } from "./rocks-storage.js";

const here = dirname(fileURLToPath(import.meta.url));
const packageDir = join(here, "..");
const writer = join(here, "testdata", "crash-writer.mjs");
const ROUNDS = Number(process.env.WAL_CRASH_ROUNDS ?? 50);
const SEED = Number(process.env.WAL_CRASH_SEED ?? Date.now() % 1_000_000);

/** Must match `payload` in testdata/crash-writer.mjs. */
function payload(index: number, term: number): Uint8Array {
  const text = `entry ${index} term ${term} `;
  return new TextEncoder().encode(text.repeat(1 + (index % 7)));
}

let dir: string | undefined;
let journalDir: string | undefined;

beforeAll(() => {
  // The child runs the compiled package; build it from the sources under test.
  execFileSync("pnpm", ["exec", "tsc", "-p", "tsconfig.build.json"], { cwd: packageDir });
});

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  if (journalDir !== undefined) await rm(journalDir, { recursive: true, force: true });
});

/** One save the writer started: entries [first, first+count) of `term`, hard state after it. */
interface Save {
  first: number;
  count: number;
  term: number;
  commit: number;
}

interface Round {
  /** Every save started, in order; saves land in this order, each atomically. */
  saves: Save[];
  /** How many of `saves` (a prefix) were acknowledged as durable. */
  acked: number;
}

/** Runs the writer until a random moment, SIGKILLs it, and returns what it did. */
function runAndKill(
  dataDir: string,
  journals: string,
  seed: number,
  killAfterMs: number,
  segmentBytes: number,
): Promise<Round> {
  return new Promise((resolve, reject) => {
    const journal = join(journals, `round-${seed}.log`);
    const args = [writer, dataDir, String(seed), journal, String(segmentBytes)];
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line.startsWith("ready")) setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    });
    child.on("exit", (code, signal) => {
      if (signal !== "SIGKILL") {
        reject(new Error(`writer exited with ${code ?? signal} before the kill: ${stderr}`));
        return;
      }
      const round: Round = { saves: [], acked: 0 };
      for (const line of readFileSync(journal, "utf8").split("\n")) {
        const [kind, ...nums] = line.split(" ");
        const [first, count, term, commit] = nums.map(Number) as number[];
        if (kind === "save") round.saves.push({ first, count, term, commit } as Save);
        else if (kind === "ack") round.acked++;
      }
      resolve(round);
    });
  });
}

/** The log (index → term) after applying `saves` to `start`. */
function applySaves(start: Map<number, number>, saves: readonly Save[]): Map<number, number> {
  const log = new Map(start);
  for (const save of saves) {
    for (const index of [...log.keys()]) if (index >= save.first) log.delete(index);
    for (let i = save.first; i < save.first + save.count; i++) log.set(i, save.term);
  }
  return log;
}

it(`keeps every acknowledged entry through ${ROUNDS} SIGKILLs (seed ${SEED})`, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "wal-rocksdb-crash-"));
  const journals = await mkdtemp(join(tmpdir(), "wal-rocksdb-crash-journal-"));
  dir = dataDir;
  journalDir = journals;
  let known = new Map<number, number>();
  let lastTerm = 0;
  let lastCommit = 0;
  let totalAcks = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const seed = SEED + round;
    const killAfterMs = 10 + ((seed * 7919) % 150);
    // Small segments in every other round: kills land in segment switches, in the
    // segment creation and in deletions after compactions, too.
    const segmentBytes = round % 2 === 0 ? 8 * 1024 : 64 * 1024 * 1024;
    const result = await runAndKill(dataDir, journals, seed, killAfterMs, segmentBytes);
    totalAcks += result.acked;
    const replay = `round ${round}, seed ${seed}, kill after ${killAfterMs} ms, ${segmentBytes}-byte segments (replay: WAL_CRASH_SEED=${SEED})`;

    const storage = await openRocksStorage({ dir: dataDir, clusterId: "crash-test", memberId: 1 });
    try {
      // load() itself rejects on a gap or a corrupt entry before the tail.
      const { hardState } = await storage.logStore.load();
      const log = storage.logStore;
      const onDisk = new Map<number, number>();
      for (const e of log.entries(log.firstIndex(), log.lastIndex() + 1, Infinity)) {
        expect(e.data, `entry ${e.index} is damaged; ${replay}`).toEqual(payload(e.index, e.term));
        onDisk.set(e.index, e.term);
      }
      // The disk must hold every acknowledged save plus some prefix of the later ones:
      // nothing acknowledged lost, nothing reordered, no partial batch.
      let landed = -1;
      for (let k = result.acked; k <= result.saves.length && landed < 0; k++) {
        const expected = applySaves(known, result.saves.slice(0, k));
        const lastExpected = Math.max(log.firstIndex() - 1, ...expected.keys());
        let same = lastExpected === log.lastIndex();
        for (let i = log.firstIndex(); same && i <= lastExpected; i++) {
          same = expected.get(i) === onDisk.get(i);
        }
        if (same) landed = k;
      }
      if (landed < 0) {
        const expected = applySaves(known, result.saves.slice(0, result.acked));
        const diffs: string[] = [];
        for (let i = log.firstIndex(); i <= Math.max(log.lastIndex(), ...expected.keys()); i++) {
          if (expected.get(i) !== onDisk.get(i) && diffs.length < 5) {
            diffs.push(`${i}: disk term ${onDisk.get(i)}, expected ${expected.get(i)}`);
          }
        }
        const tail = result.saves.slice(Math.max(0, result.acked - 3));
        expect.fail(
          `the log on disk (${log.firstIndex()}..${log.lastIndex()}) is not the ${result.acked} acknowledged saves plus a prefix of the ${result.saves.length - result.acked} unacknowledged ones; first differences with the acknowledged state: ${diffs.join("; ")}; last saves: ${JSON.stringify(tail)}; ${replay}`,
        );
      }
      const ackedSaves = result.saves.slice(0, result.acked);
      const ackedTerm = Math.max(lastTerm, ...ackedSaves.map((x) => x.term));
      const ackedCommit = Math.max(lastCommit, ...ackedSaves.map((x) => x.commit));
      expect(hardState.term, `hard state term went back; ${replay}`).toBeGreaterThanOrEqual(
        ackedTerm,
      );
      expect(hardState.commit, `commit went back; ${replay}`).toBeGreaterThanOrEqual(ackedCommit);
      known = onDisk;
      lastTerm = hardState.term;
      lastCommit = hardState.commit;
    } finally {
      await storage.close();
    }
  }
  // The test is only meaningful if the writer got work acknowledged before the kills.
  expect(totalAcks).toBeGreaterThan(ROUNDS);
}, 300_000);

it("a data dir open in another process is refused with DataDirLockedError", async () => {
  const lockDir = await mkdtemp(join(tmpdir(), "wal-rocksdb-lock-"));
  const child = spawn(process.execPath, [join(here, "testdata", "hold-open.mjs"), lockDir], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: child.stdout }).on("line", (line) => {
        if (line === "ready") resolve();
      });
      child.on("exit", (code) => reject(new Error(`holder exited early with ${code}`)));
    });
    await expect(
      openRocksStorage({ dir: lockDir, clusterId: "crash-test", memberId: 1 }),
    ).rejects.toBeInstanceOf(DataDirLockedError);
  } finally {
    const exited = new Promise((resolve) => child.on("exit", resolve));
    child.kill("SIGKILL");
    await exited;
  }
  // The lock dies with the process that held it.
  const storage = await openRocksStorage({ dir: lockDir, clusterId: "crash-test", memberId: 1 });
  await storage.close();
  await rm(lockDir, { recursive: true, force: true });
});

it("the README example runs as written", () => {
  const run = runReadmeExample(import.meta.url);
  expect(run.stderr).toBe("");
  expect(run.stdout).toContain("last index 1");
});
