import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy between two members, so a test can cut a connection the way a network does
 * (both sides see it break) or stop forwarding altogether.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  /** Bytes forwarded from client to target since the proxy started. */
  forwardedBytes = 0;
  private cutAfter: { bytes: number; done: () => void } | undefined;
  private refusing = false;
  private holding = false;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<number> {
    const server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.targetPort, "127.0.0.1");
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
      if (this.holding) client.pause();
      client.on("data", (chunk: Buffer) => {
        this.forwardedBytes += chunk.length;
        if (!upstream.write(chunk)) client.pause();
        const cut = this.cutAfter;
        if (cut !== undefined && this.forwardedBytes >= cut.bytes) {
          this.cutAfter = undefined;
          this.cutAll();
          cut.done();
        }
      });
      upstream.on("drain", () => {
        if (!this.holding) client.resume();
      });
      upstream.on("data", (chunk: Buffer) => {
        if (!client.write(chunk)) upstream.pause();
      });
      client.on("drain", () => {
        if (!this.holding) upstream.resume();
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("proxy has no port");
    return address.port;
  }

  /** Resolves after every connection was cut once `bytes` more bytes have gone through. */
  cutAfterBytes(bytes: number): Promise<void> {
    return new Promise((resolve) => {
      this.cutAfter = { bytes: this.forwardedBytes + bytes, done: resolve };
    });
  }

  /** Breaks every open connection (RST). */
  cutAll(): void {
    for (const [a, b] of this.pairs) {
      a.resetAndDestroy();
      b.resetAndDestroy();
    }
    this.pairs.clear();
  }

  /**
   * Stops (or resumes) forwarding in both directions on open connections without closing
   * them: a peer that went silent (power loss, cable cut) rather than one that reset.
   */
  blackhole(on: boolean): void {
    this.holding = on;
    for (const [client, upstream] of this.pairs) {
      if (on) {
        client.pause();
        upstream.pause();
      } else {
        client.resume();
        upstream.resume();
      }
    }
  }

  /** Stops (or resumes) reading from clients, as a stalled receiver would. */
  hold(on: boolean): void {
    this.holding = on;
    for (const [client] of this.pairs) {
      if (on) client.pause();
      else client.resume();
    }
  }

  /** While set, new connections are closed at once (the peer looks down). */
  refuse(on: boolean): void {
    this.refusing = on;
  }

  async close(): Promise<void> {
    this.cutAll();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
