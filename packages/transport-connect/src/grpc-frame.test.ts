import { describe, expect, it } from "vitest";
import { MalformedMessageError, MessageTooLargeError } from "./errors.js";
import { FrameDecoder, frameMessage } from "./grpc-frame.js";

describe("FrameDecoder", () => {
  it("cuts messages out of chunks split at every possible byte", () => {
    const stream = Buffer.concat([
      frameMessage(Buffer.from("first")),
      frameMessage(Buffer.alloc(0)),
      frameMessage(Buffer.from("third message")),
    ]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder(1024);
      const out = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))];
      expect(out.map((m) => m.toString())).toEqual(["first", "", "third message"]);
      expect(decoder.pendingBytes).toBe(0);
    }
  });

  it("joins a large message delivered in many small chunks once", () => {
    const body = Buffer.alloc(1_000_000, 7);
    const stream = frameMessage(body);
    const decoder = new FrameDecoder(2_000_000);
    const out: Buffer[] = [];
    for (let at = 0; at < stream.length; at += 16_384)
      out.push(...decoder.push(stream.subarray(at, at + 16_384)));
    expect(out).toHaveLength(1);
    expect(out[0]!.equals(body)).toBe(true);
  });

  it("refuses an oversized message from its prefix alone", () => {
    const decoder = new FrameDecoder(100);
    expect(() => decoder.push(Buffer.from([0, 0, 0, 0, 101]))).toThrow(MessageTooLargeError);
  });

  it("refuses compressed and unknown frame flags", () => {
    expect(() => new FrameDecoder(100).push(Buffer.from([1, 0, 0, 0, 0]))).toThrow(/compressed/);
    expect(() => new FrameDecoder(100).push(Buffer.from([0x80, 0, 0, 0, 0]))).toThrow(
      MalformedMessageError,
    );
  });

  it("reports bytes of a message cut short", () => {
    const decoder = new FrameDecoder(100);
    decoder.push(frameMessage(Buffer.from("abc")).subarray(0, 6));
    expect(decoder.pendingBytes).toBe(6);
  });
});
