import { fromBinary } from "@bufbuild/protobuf";
import { PutRequestSchema, RangeRequestSchema } from "@raftkv/proto/etcd";
import { describe, expect, it } from "vitest";
import { InvalidOptionError } from "./errors.js";
import { unframeGrpcMessage } from "./grpc-message.js";
import { formatKey, KeySequence, RequestTemplate, resolveWorkload } from "./workload.js";

const message = (template: RequestTemplate): Uint8Array =>
  unframeGrpcMessage(template.frame) as Uint8Array;

describe("RequestTemplate", () => {
  it("rewrites the key of a put in place and keeps the value", () => {
    const template = new RequestTemplate(resolveWorkload({ operation: "put" }));
    template.setKey(98_765);
    const put = fromBinary(PutRequestSchema, message(template));
    expect(Buffer.from(put.key).toString()).toBe("k0098765");
    expect(put.value.length).toBe(256);
    expect(template.path).toBe("/etcdserverpb.KV/Put");
  });

  it("builds linearizable and serializable ranges of one key", () => {
    const linearizable = new RequestTemplate(
      resolveWorkload({ operation: "range-linearizable", keySpace: 1000, keyBytes: 4 }),
    );
    linearizable.setKey(7);
    const range = fromBinary(RangeRequestSchema, message(linearizable));
    expect(Buffer.from(range.key).toString()).toBe("k007");
    expect(range.serializable).toBe(false);
    const serializable = new RequestTemplate(resolveWorkload({ operation: "range-serializable" }));
    expect(fromBinary(RangeRequestSchema, message(serializable)).serializable).toBe(true);
  });

  it("formats keys with a fixed width", () => {
    expect(formatKey(0, 8)).toBe("k0000000");
    expect(formatKey(99_999, 8)).toBe("k0099999");
  });
});

describe("KeySequence", () => {
  it("sequential residue classes cover every key exactly once", () => {
    const seen: number[] = [];
    for (let worker = 0; worker < 3; worker++) {
      const keys = new KeySequence("sequential", 100, worker, 3);
      for (let k = keys.next(); k >= 0; k = keys.next()) seen.push(k);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it("random keys stay in the key space, spread over it, and replay from the seed", () => {
    const a = new KeySequence("random", 1000, 42);
    const b = new KeySequence("random", 1000, 42);
    const drawn = Array.from({ length: 20_000 }, () => a.next());
    expect(drawn).toEqual(Array.from({ length: 20_000 }, () => b.next()));
    expect(Math.min(...drawn)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...drawn)).toBeLessThan(1000);
    expect(new Set(drawn).size).toBeGreaterThan(990);
  });
});

describe("resolveWorkload", () => {
  it("applies the defaults of etcd's published benchmark", () => {
    expect(resolveWorkload({ operation: "put" })).toEqual({
      operation: "put",
      keySpace: 100_000,
      keyBytes: 8,
      valueBytes: 256,
    });
  });

  it.each([
    [{ operation: "delete" }],
    [{ operation: "put", keySpace: 0 }],
    [{ operation: "put", keySpace: 1001, keyBytes: 4 }],
    [{ operation: "put", valueBytes: -1 }],
    [{ operation: "put", keyBytes: 1 }],
  ])("rejects %j", (spec) => {
    expect(() => resolveWorkload(spec as never)).toThrow(InvalidOptionError);
  });
});
