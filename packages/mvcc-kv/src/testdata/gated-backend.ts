/**
 * A backend wrapper whose writes the test controls: held writes wait at a gate until
 * released (or never, if never released), failing writes reject. Everything else goes
 * to the wrapped backend. Test-only: not part of the build.
 */
import type { BackendWriteBatch, MvccBackend } from "../backend.js";

export interface GatedBackend extends MvccBackend {
  /** Every batch handed to `write`, in call order. */
  readonly writes: BackendWriteBatch[];
  /** Later writes wait until `release()`. */
  hold(): void;
  /** Lets held writes (and later ones) through. */
  release(): void;
  /** Later writes reject with `error` (after the gate). */
  failWith(error: Error | undefined): void;
  /** Writes that reached the gate and wait there. */
  readonly waiting: number;
}

export function gatedBackend(inner: MvccBackend): GatedBackend {
  let gate: Promise<void> | undefined;
  let open: () => void = () => {};
  let failure: Error | undefined;
  let waiting = 0;
  const writes: BackendWriteBatch[] = [];
  return {
    writes,
    get waiting() {
      return waiting;
    },
    hold() {
      if (gate !== undefined) return;
      gate = new Promise((resolve) => {
        open = resolve;
      });
    },
    release() {
      gate = undefined;
      open();
    },
    failWith(error) {
      failure = error;
    },
    appliedIndex: () => inner.appliedIndex(),
    get: (key) => inner.get(key),
    range: (options) => inner.range(options),
    snapshot: () => inner.snapshot(),
    close: () => inner.close(),
    async write(batch) {
      writes.push(batch);
      if (gate !== undefined) {
        waiting++;
        await gate;
        waiting--;
      }
      if (failure !== undefined) throw failure;
      return inner.write(batch);
    },
  };
}
