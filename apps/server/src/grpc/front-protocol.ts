import type { ClientPortTls } from "./connection.js";

/**
 * Messages between the client front (a worker thread that owns the client port's
 * sockets) and the member's main thread. Calls and replies travel in batches: their
 * numbers in one Float64Array (`CALL_FIELDS` or `REPLY_FIELDS` per call) and their
 * message bytes packed into one ArrayBuffer (a call's bytes end where its `end` says),
 * both transferred, so a batch costs one postMessage and no per-call cloning.
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
      /** Per call: id, route index, milliseconds left of its deadline (-1: none), end. */
      meta: Float64Array;
      bytes: ArrayBuffer;
    }
  | { kind: "closed" };

export type MainToFront =
  | {
      kind: "replies";
      /** Per reply: id, gRPC status code, end. Status 0 carries reply bytes. */
      meta: Float64Array;
      bytes: ArrayBuffer;
      /** The status messages of the replies whose status is not 0, in order. */
      messages: string[];
    }
  | { kind: "close" };

export const CALL_FIELDS = 4;
export const REPLY_FIELDS = 3;

/**
 * Fills a batch: `meta` has `fields` numbers per message, the caller's first, and the
 * last one is set here to where the message ends in the returned bytes.
 */
export function packBatch(
  meta: number[],
  fields: number,
  messages: readonly Uint8Array[],
): { meta: Float64Array; bytes: ArrayBuffer } {
  let size = 0;
  for (const m of messages) size += m.length;
  const out = new Uint8Array(size);
  const packed = Float64Array.from(meta);
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as Uint8Array;
    out.set(m, at);
    at += m.length;
    packed[i * fields + fields - 1] = at;
  }
  return { meta: packed, bytes: out.buffer };
}
