import type { KvRecord } from "./kv-record.js";

/**
 * The history of one key: its generations, as in etcd's `keyIndex`. A generation runs
 * from the put that creates the key to the delete that ends it (the tombstone, its last
 * revision); the last generation is the current one and is empty while the key does not
 * exist. Revisions are (main, sub) pairs stored flat in `revs`: `[main0, sub0, main1,
 * sub1, ...]`, oldest first.
 *
 * Compaction trims history below a revision but keeps, for every generation still alive
 * at that revision, the version visible there, so reads at or above the compacted
 * revision see exactly what they saw before.
 */
export class KeyIndex {
  readonly generations: Generation[] = [new Generation()];
  /**
   * The record of the latest revision while it is cached in memory (see the store's value
   * cache); `undefined` when not cached or when the key is deleted.
   */
  cached: KvRecord | undefined = undefined;

  constructor(readonly key: string) {}

  /** Records a put at (main, sub), which must be above every revision recorded so far. */
  put(main: number, sub: number): void {
    const g = this.generations[this.generations.length - 1]!;
    if (g.revs.length === 0) g.created = main;
    g.revs.push(main, sub);
    g.ver++;
  }

  /**
   * Records a delete at (main, sub), ending the current generation. Returns false (and
   * changes nothing) when the key does not currently exist.
   */
  tombstone(main: number, sub: number): boolean {
    if (this.generations[this.generations.length - 1]!.revs.length === 0) return false;
    this.put(main, sub);
    this.generations.push(new Generation());
    return true;
  }

  /** Adds a generation that starts from a version restored from storage, as etcd's `restore`. */
  restore(created: number, main: number, sub: number, version: number): void {
    const g = this.generations[this.generations.length - 1]!;
    g.created = created;
    g.ver = version;
    g.revs.push(main, sub);
  }

  /** Whether the key has no history left at all. */
  isEmpty(): boolean {
    return this.generations.length === 1 && this.generations[0]!.revs.length === 0;
  }

  /** Whether the key exists at the newest revision. */
  isLive(): boolean {
    return this.generations[this.generations.length - 1]!.revs.length > 0;
  }

  /**
   * The revision of the key visible at main revision `atRev`, or `undefined` if the key
   * did not exist then (never created, or deleted at or before `atRev`).
   */
  get(atRev: number): VisibleRevision | undefined {
    const g = this.findGeneration(atRev);
    if (g === undefined) return undefined;
    const revs = g.revs;
    for (let i = revs.length - 2; i >= 0; i -= 2) {
      if (revs[i]! <= atRev) {
        return {
          main: revs[i]!,
          sub: revs[i + 1]!,
          created: g.created,
          version: g.ver - (revs.length - i - 2) / 2,
        };
      }
    }
    return undefined;
  }

  private findGeneration(atRev: number): Generation | undefined {
    const last = this.generations.length - 1;
    for (let gi = last; gi >= 0; gi--) {
      const g = this.generations[gi]!;
      if (g.revs.length === 0) continue;
      // A finished generation whose tombstone is at or before atRev: the key was deleted then.
      if (gi !== last && g.revs[g.revs.length - 2]! <= atRev) return undefined;
      if (g.revs[0]! <= atRev) return g;
    }
    return undefined;
  }

  /**
   * Drops the history that a compaction at `atRev` removes and reports each removed
   * revision. Afterwards `isEmpty()` tells whether the whole key can go.
   */
  compact(atRev: number, removed: (main: number, sub: number) => void): void {
    const { genIdx, revIndex } = this.locateCompaction(atRev);
    for (let gi = 0; gi < genIdx; gi++) {
      const revs = this.generations[gi]!.revs;
      for (let i = 0; i < revs.length; i += 2) removed(revs[i]!, revs[i + 1]!);
    }
    let drop = genIdx;
    const g = this.generations[genIdx]!;
    if (g.revs.length > 0) {
      if (revIndex > 0) {
        for (let i = 0; i < revIndex; i += 2) removed(g.revs[i]!, g.revs[i + 1]!);
        g.revs.splice(0, revIndex);
      }
      // etcd drops a finished generation reduced to one revision, for it holds nothing visible.
      if (g.revs.length === 2 && genIdx !== this.generations.length - 1) {
        if (g.revs[0]! <= atRev) removed(g.revs[0]!, g.revs[1]!);
        drop++;
      }
    }
    if (drop > 0) this.generations.splice(0, drop);
  }

  /**
   * Reports the revisions at or below `atRev` that a compaction at `atRev` would keep,
   * without changing anything (etcd's `keep`, used to hash a revision's state).
   */
  keep(atRev: number, kept: (main: number, sub: number) => void): void {
    if (this.isEmpty()) return;
    const { genIdx, revIndex } = this.locateCompaction(atRev);
    const g = this.generations[genIdx]!;
    if (g.revs.length === 0 || revIndex < 0) return;
    if (revIndex === g.revs.length - 2 && genIdx !== this.generations.length - 1) return;
    kept(g.revs[revIndex]!, g.revs[revIndex + 1]!);
  }

  /**
   * The first generation a compaction at atRev keeps (every earlier one ended at or
   * before atRev) and, in it, the flat index of the newest revision at or below atRev
   * (-1 if none).
   */
  private locateCompaction(atRev: number): { genIdx: number; revIndex: number } {
    let genIdx = 0;
    while (genIdx < this.generations.length - 1) {
      const revs = this.generations[genIdx]!.revs;
      if (revs[revs.length - 2]! > atRev) break;
      genIdx++;
    }
    const revs = this.generations[genIdx]!.revs;
    let revIndex = -1;
    for (let i = revs.length - 2; i >= 0; i -= 2) {
      if (revs[i]! <= atRev) {
        revIndex = i;
        break;
      }
    }
    return { genIdx, revIndex };
  }
}

/** One generation: the revisions from a creating put to the deleting tombstone. */
export class Generation {
  /** The version of the newest revision in this generation (1 for the creating put). */
  ver = 0;
  /** Main revision of the creating put. */
  created = 0;
  /** Flat (main, sub) pairs, oldest first. */
  readonly revs: number[] = [];
}

/** What `KeyIndex.get` finds. */
export interface VisibleRevision {
  main: number;
  sub: number;
  /** Main revision of the put that created this generation. */
  created: number;
  /** The key's version at this revision. */
  version: number;
}
