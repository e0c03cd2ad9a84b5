import { describe, expect, it } from "vitest";
import { Http2ProtocolError } from "./errors.js";
import { huffmanDecode, huffmanEncode } from "./huffman.js";

const hex = (text: string): Uint8Array => Buffer.from(text.replace(/\s/g, ""), "hex");

describe("HPACK Huffman code", () => {
  // Examples from RFC 7541 Appendix C.4 and C.6.
  it.each([
    ["f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com"],
    ["a8eb 1064 9cbf", "no-cache"],
    ["25a8 49e9 5ba9 7d7f", "custom-key"],
    ["25a8 49e9 5bb8 e8b4 bf", "custom-value"],
    ["6402", "302"],
    ["aec3 771a 4b", "private"],
    ["d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT"],
    ["9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com"],
  ])("decodes the RFC 7541 example %s to %j", (coded, text) => {
    expect(huffmanDecode(hex(coded))).toBe(text);
    expect(Buffer.from(huffmanEncode(text)).toString("hex")).toBe(coded.replace(/\s/g, ""));
  });

  it("round-trips every octet value", () => {
    const all = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
    expect(huffmanDecode(huffmanEncode(all))).toBe(all);
    expect(huffmanDecode(huffmanEncode(`${all}${all.split("").reverse().join("")}`))).toBe(
      `${all}${all.split("").reverse().join("")}`,
    );
  });

  it("decodes the empty string", () => {
    expect(huffmanDecode(new Uint8Array(0))).toBe("");
  });

  it("rejects padding longer than 7 bits", () => {
    // "0" is 00000 (5 bits); a whole extra 0xff octet of padding is 11 bits of padding.
    expect(() => huffmanDecode(hex("07ff"))).toThrow(Http2ProtocolError);
  });

  it("rejects padding that is not a prefix of EOS", () => {
    // "0" (00000) followed by 000 instead of 111.
    expect(() => huffmanDecode(hex("00"))).toThrow(Http2ProtocolError);
  });

  it("rejects a string containing the EOS symbol", () => {
    // EOS is thirty 1-bits; four 0xff octets hold it plus two 1-bits of padding.
    expect(() => huffmanDecode(hex("ffffffff"))).toThrow(Http2ProtocolError);
  });
});
