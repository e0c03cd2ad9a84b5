import type {
  BackendEntry,
  BackendOperation,
  BackendRangeOptions,
  BackendSnapshot,
  BackendWriteBatch,
  MvccBackend,
} from "./backend.js";
import { bytesToKey, keyToBytes } from "./key-bytes.js";
import { SortedMap } from "./sorted-map.js";

/** Thrown by an in-memory backend used after `close()`. */
export class BackendClosedError extends Error {
  readonly code = "BACKEND_CLOSED";
  override readonly name = "BackendClosedError";
  constructor() {
    super("raftkv: backend is closed");
  }
}

/**
 * A volatile `MvccBackend` for tests, tools and single-process use: an ordered map in
 * memory whose snapshots are O(1) copy-on-write clones. Everything is lost with the
 * process; "durable" here means "visible to the next store opened on this backend
 * object", which is how tests simulate a restart.
 *
 * Writes are atomic and resolve on the next microtask. Arrays handed to `write` are kept
 * as they are (not copied) and returned by reads.
 */
export function createMemoryBackend(): MvccBackend {
  return new MemoryBackend();
}

/** How many entries a range reads from the tree per step. */
const RANGE_STEP = 256;

class MemoryBackend implements MvccBackend {
  private data = new SortedMap<Uint8Array>();
  private applied = 0;
  private closed = false;

  appliedIndex(): number {
    return this.applied;
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    this.assertOpen();
    return this.data.get(bytesToKey(key));
  }

  range(options: BackendRangeOptions): AsyncIterable<BackendEntry> {
    this.assertOpen();
    return rangeOf(this.data.clone(), options, () => this.assertOpen());
  }

  async write(batch: BackendWriteBatch): Promise<void> {
    this.assertOpen();
    // Checked up front, so that applying cannot stop half way: the batch is atomic.
    for (const op of batch.operations) checkOperation(op);
    await Promise.resolve();
    this.assertOpen();
    // In place: nodes shared with snapshots are copied on write by the tree itself.
    const data = this.data;
    for (const op of batch.operations) {
      if (op.type === "put") {
        data.set(bytesToKey(op.key), op.value);
      } else if (op.type === "delete") {
        data.delete(bytesToKey(op.key));
      } else {
        const doomed: string[] = [];
        data.scan(bytesToKey(op.gte), bytesToKey(op.lt), (k) => {
          doomed.push(k);
        });
        for (const k of doomed) data.delete(k);
      }
    }
    if (batch.appliedIndex !== undefined) this.applied = batch.appliedIndex;
  }

  snapshot(): BackendSnapshot {
    this.assertOpen();
    const tree = this.data.clone();
    let released = false;
    const check = () => {
      if (released) throw new Error("raftkv: backend snapshot was released");
      this.assertOpen();
    };
    return {
      appliedIndex: this.applied,
      get: async (key) => {
        check();
        return tree.get(bytesToKey(key));
      },
      range: (options) => {
        check();
        return rangeOf(tree, options, check);
      },
      release: () => {
        released = true;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private assertOpen(): void {
    if (this.closed) throw new BackendClosedError();
  }
}

function checkOperation(op: BackendOperation): void {
  const ok =
    op.type === "put"
      ? op.key instanceof Uint8Array && op.value instanceof Uint8Array
      : op.type === "delete"
        ? op.key instanceof Uint8Array
        : op.type === "deleteRange" && op.gte instanceof Uint8Array && op.lt instanceof Uint8Array;
  if (!ok) throw new TypeError("raftkv: malformed backend operation");
}

async function* rangeOf(
  tree: SortedMap<Uint8Array>,
  options: BackendRangeOptions,
  check: () => void,
): AsyncGenerator<BackendEntry> {
  let gte = options.gte === undefined ? "" : bytesToKey(options.gte);
  let lt = options.lt === undefined ? undefined : bytesToKey(options.lt);
  let remaining = options.limit ?? Number.POSITIVE_INFINITY;
  while (remaining > 0) {
    const step: [string, Uint8Array][] = [];
    const visit = (k: string, v: Uint8Array) => {
      step.push([k, v]);
      return step.length < Math.min(RANGE_STEP, remaining);
    };
    if (options.reverse === true) tree.scanReverse(gte, lt, visit);
    else tree.scan(gte, lt, visit);
    for (const [k, value] of step) {
      check();
      yield { key: keyToBytes(k), value };
    }
    remaining -= step.length;
    if (step.length < RANGE_STEP) return;
    const last = step[step.length - 1]![0];
    // "\0" appended gives the smallest key after `last`; in reverse, `last` bounds from above.
    if (options.reverse === true) lt = last;
    else gte = `${last}\u0000`;
  }
}
