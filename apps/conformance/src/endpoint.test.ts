import { describe, expect, it } from "vitest";
import { endpointToUrl, parseEndpointList } from "./endpoint.js";
import { InvalidEndpointError } from "./errors.js";

describe("endpoints", () => {
  it("accepts host:port, http URLs and bracketed IPv6", () => {
    expect(endpointToUrl("127.0.0.1:2379")).toBe("http://127.0.0.1:2379");
    expect(endpointToUrl("http://localhost:2379")).toBe("http://localhost:2379");
    expect(endpointToUrl("[::1]:2379")).toBe("http://[::1]:2379");
  });

  it.each([
    ["", "empty"],
    ["127.0.0.1", "no port"],
    ["https://127.0.0.1:2379", "scheme"],
    ["127.0.0.1:99999", "expected host:port"],
    ["127.0.0.1:2379/v3", "path"],
    ["not a host:1", "expected host:port"],
  ])("rejects %j with a typed error (%s)", (text, reason) => {
    let error: unknown;
    try {
      endpointToUrl(text);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidEndpointError);
    expect((error as InvalidEndpointError).code).toBe("INVALID_ENDPOINT");
    expect((error as Error).message).toContain(reason);
  });

  it("splits a comma-separated list and rejects an empty one", () => {
    expect(parseEndpointList("a:1, b:2,")).toEqual(["a:1", "b:2"]);
    expect(() => parseEndpointList(" , ")).toThrow(InvalidEndpointError);
  });
});
