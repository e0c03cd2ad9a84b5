import type { ClientPortTls } from "./connection.js";

/**
 * Messages between the client front (a worker thread that owns the client port's
 * sockets) and the member's main thread. Calls and replies travel in batches, their
 * message bytes packed into one transferred ArrayBuffer (`ends[i]` is where the i-th
 * message ends), so a batch costs one postMessage and no copy of each message.
 */
export interface FrontWorkerData {
  host: string;
  port: number;
  tls: ClientPortTls | undefined;
  /** The unary gRPC methods the front serves itself, by path; calls name them by index. */
  hotPaths: string[];
  /** Unix socket of the main thread's client port, for everything else. */
  upstream: string;
  maxReceiveMessageBytes: number;
}

export type FrontToMain =
  | { kind: "listening"; port: number }
  | { kind: "failed"; message: string; code: string | undefined }
  | {
      kind: "calls";
      ids: number[];
      routes: number[];
      /** Milliseconds left of the client's deadline, or -1 for none. */
      timeouts: number[];
      ends: number[];
      bytes: ArrayBuffer;
    }
  | { kind: "closed" };

export type MainToFront =
  | {
      kind: "replies";
      ids: number[];
      /** gRPC status code; 0 carries a reply message in `bytes`, others `messages[i]`. */
      statuses: number[];
      messages: string[];
      ends: number[];
      bytes: ArrayBuffer;
    }
  | { kind: "close" };

/** Packs messages into one buffer; returns it and where each message ends. */
export function packMessages(messages: readonly Uint8Array[]): {
  ends: number[];
  bytes: ArrayBuffer;
} {
  let size = 0;
  for (const m of messages) size += m.length;
  const out = new Uint8Array(size);
  const ends: number[] = [];
  let at = 0;
  for (const m of messages) {
    out.set(m, at);
    at += m.length;
    ends.push(at);
  }
  return { ends, bytes: out.buffer };
}
