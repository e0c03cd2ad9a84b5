import { createHash } from "node:crypto";
import type { Message, TransportHandler } from "@raftkv/raft-core";

export interface ReceivedSnapshot {
  message: Message;
  bytes: number;
  sha256: string;
}

/** A TransportHandler that records what arrives and lets a test wait for it. */
export class RecordingHandler implements TransportHandler {
  readonly messages: Message[] = [];
  readonly snapshots: ReceivedSnapshot[] = [];
  /** When set, onSnapshot fails with this error after reading the data. */
  rejectSnapshotsWith: Error | undefined;
  private waiters: (() => void)[] = [];

  onMessages(messages: Message[]): void {
    this.messages.push(...messages);
    this.wake();
  }

  async onSnapshot(message: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    const hash = createHash("sha256");
    let bytes = 0;
    for await (const chunk of data) {
      hash.update(chunk);
      bytes += chunk.length;
    }
    if (this.rejectSnapshotsWith !== undefined) throw this.rejectSnapshotsWith;
    this.snapshots.push({ message, bytes, sha256: hash.digest("hex") });
    this.wake();
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with `what` in the message. */
  until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    if (predicate()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else {
          this.waiters.push(check);
        }
      };
      this.waiters.push(check);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}

/** Polls `predicate` every 20 ms until it holds. */
export async function eventually(
  predicate: () => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
