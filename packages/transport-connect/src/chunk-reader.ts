import type { Readable } from "node:stream";

/**
 * Pulls chunks from a readable stream one at a time, pausing the stream while the caller
 * is busy (so HTTP/2 flow control pushes back on the sender). Unlike `for await`, leaving
 * early does not destroy the stream, so a response can still be written to it.
 */
export class ChunkReader {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly stream: Readable) {
    stream.on("data", (chunk: Buffer) => {
      this.queue.push(chunk);
      stream.pause();
      this.notify();
    });
    stream.on("end", () => {
      this.ended = true;
      this.notify();
    });
    stream.on("error", (error) => {
      this.failure ??= error;
      this.notify();
    });
    stream.on("close", () => {
      if (!this.ended) this.failure ??= new Error("stream closed before its end");
      this.notify();
    });
  }

  /** The next chunk; undefined at the end of the stream. Throws if the stream broke. */
  async next(): Promise<Buffer | undefined> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk !== undefined) return chunk;
      if (this.ended) return undefined;
      if (this.failure !== undefined) throw this.failure;
      this.stream.resume();
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
