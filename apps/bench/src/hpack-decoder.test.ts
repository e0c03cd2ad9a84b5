import { describe, expect, it } from "vitest";
import { Http2ProtocolError } from "./errors.js";
import { HpackDecoder } from "./hpack-decoder.js";
import { encodeHeaderBlock, encodeInteger } from "./hpack-encoder.js";

const hex = (text: string): Uint8Array => Buffer.from(text.replace(/\s/g, ""), "hex");
const pairs = (flat: string[]): [string, string][] =>
  flat.flatMap((v, i) => (i % 2 === 0 ? [[v, flat[i + 1] as string] as [string, string]] : []));

describe("HpackDecoder", () => {
  // RFC 7541 C.3 (plain literals) and C.4 (the same requests Huffman-coded): three requests
  // on one connection, each indexing into what the previous ones added.
  it.each([
    [
      "C.3",
      [
        "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
        "8286 84be 5808 6e6f 2d63 6163 6865",
        "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65",
      ],
    ],
    [
      "C.4",
      [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8286 84be 5886 a8eb 1064 9cbf",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
      ],
    ],
  ])("decodes the request examples of RFC 7541 %s", (_, blocks) => {
    const decoder = new HpackDecoder();
    const base: [string, string][] = [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ];
    expect(pairs(decoder.decode(hex(blocks[0] as string)))).toEqual(base);
    expect(decoder.dynamicTableBytes).toBe(57);
    expect(pairs(decoder.decode(hex(blocks[1] as string)))).toEqual([
      ...base,
      ["cache-control", "no-cache"],
    ]);
    expect(decoder.dynamicTableBytes).toBe(110);
    expect(pairs(decoder.decode(hex(blocks[2] as string)))).toEqual([
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ]);
    expect(decoder.dynamicTableBytes).toBe(164);
  });

  it("evicts the oldest entries when the table is full (RFC 7541 C.5, 256-byte table)", () => {
    const decoder = new HpackDecoder({ maxTableBytes: 256 });
    const date1 = "Mon, 21 Oct 2013 20:13:21 GMT";
    const location = "https://www.example.com";
    expect(
      pairs(
        decoder.decode(
          hex(
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
          ),
        ),
      ),
    ).toEqual([
      [":status", "302"],
      ["cache-control", "private"],
      ["date", date1],
      ["location", location],
    ]);
    expect(decoder.dynamicTableBytes).toBe(222);
    expect(pairs(decoder.decode(hex("4803 3330 37c1 c0bf")))).toEqual([
      [":status", "307"],
      ["cache-control", "private"],
      ["date", date1],
      ["location", location],
    ]);
    expect(decoder.dynamicTableBytes).toBe(222);
    expect(
      pairs(
        decoder.decode(
          hex(
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31",
          ),
        ),
      ),
    ).toEqual([
      [":status", "200"],
      ["cache-control", "private"],
      ["date", "Mon, 21 Oct 2013 20:13:22 GMT"],
      ["location", location],
      ["content-encoding", "gzip"],
      ["set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"],
    ]);
    expect(decoder.dynamicTableBytes).toBe(215);
  });

  it("decodes what encodeHeaderBlock writes", () => {
    const block = encodeHeaderBlock([
      { index: 3 },
      { nameIndex: 4, value: "/etcdserverpb.KV/Put" },
      { name: "te", value: "trailers" },
      { name: "x-long", value: "v".repeat(300) },
    ]);
    expect(pairs(new HpackDecoder().decode(block))).toEqual([
      [":method", "POST"],
      [":path", "/etcdserverpb.KV/Put"],
      ["te", "trailers"],
      ["x-long", "v".repeat(300)],
    ]);
  });

  it("applies a table size update, evicting entries that no longer fit", () => {
    const decoder = new HpackDecoder();
    decoder.decode(hex("4003 6b65 7903 7661 6c")); // "key: val", indexed: 3 + 3 + 32 bytes
    expect(decoder.dynamicTableBytes).toBe(38);
    decoder.decode(hex("20")); // size update to 0
    expect(decoder.dynamicTableBytes).toBe(0);
    expect(() => decoder.decode(hex("be"))).toThrow(Http2ProtocolError);
  });

  it.each([
    ["index 0", "80"],
    ["an index beyond both tables", "be"],
    ["a table size update to 4097, above the advertised 4096", "3fe2 1f"],
    ["a table size update after a field", "82 20"],
    ["a truncated integer", "ff"],
    ["a string longer than the block", "0003 6162"],
    ["an integer overflowing 2^31", "ffff ffff ffff 0f"],
  ])("rejects %s", (_, block) => {
    expect(() => new HpackDecoder().decode(hex(block))).toThrow(Http2ProtocolError);
  });

  it("rejects a header list over maxHeaderListBytes", () => {
    const block = encodeHeaderBlock([{ name: "x", value: "v".repeat(100) }]);
    expect(() => new HpackDecoder({ maxHeaderListBytes: 100 }).decode(block)).toThrow(
      Http2ProtocolError,
    );
  });
});

describe("encodeInteger", () => {
  // RFC 7541 C.1: 10 and 1337 with a 5-bit prefix, 42 with an 8-bit prefix.
  it.each([
    [10, 5, [0x0a]],
    [1337, 5, [0x1f, 0x9a, 0x0a]],
    [42, 8, [0x2a]],
  ])("encodes %i with a %i-bit prefix as in RFC 7541 C.1", (value, prefix, expected) => {
    const out: number[] = [];
    encodeInteger(out, value, prefix, 0);
    expect(out).toEqual(expected);
  });
});
