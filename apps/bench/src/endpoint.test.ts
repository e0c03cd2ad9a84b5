import { describe, expect, it } from "vitest";
import { formatEndpoint, parseEndpoint } from "./endpoint.js";
import { InvalidOptionError } from "./errors.js";

describe("parseEndpoint", () => {
  it.each([
    ["127.0.0.1:2379", { host: "127.0.0.1", port: 2379 }],
    ["http://localhost:2379", { host: "localhost", port: 2379 }],
    ["http://localhost:2379/", { host: "localhost", port: 2379 }],
    ["[::1]:2379", { host: "::1", port: 2379 }],
  ])("parses %s", (text, expected) => {
    expect(parseEndpoint(text)).toEqual(expected);
    expect(parseEndpoint(formatEndpoint(expected))).toEqual(expected);
  });

  it.each(["localhost", "https://localhost:2379", "host:0", "host:70000", ":2379", ""])(
    "rejects %j",
    (text) => {
      expect(() => parseEndpoint(text)).toThrow(InvalidOptionError);
    },
  );
});
