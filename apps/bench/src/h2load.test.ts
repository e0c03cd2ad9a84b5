import { describe, expect, it } from "vitest";
import { ToolError } from "./errors.js";
import { parseH2loadOutput } from "./h2load.js";

// The summary h2load (nghttp2 1.52) printed for a timing-based run against etcd.
const OUTPUT = `finished in 3.01s, 14828.00 req/s, 968.07KB/s
requests: 29656 total, 29656 started, 29656 done, 29656 succeeded, 0 failed, 0 errored, 0 timeout
status codes: 29656 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 1.89MB (1982600) total, 89.91KB (92066) headers (space savings 94.73%), 1.49MB (1564306) data
                     min         max         mean         sd        +/- sd
time for request:     1.03ms     47.84ms      8.50ms      6.83ms    90.00%
time for connect:        0us         0us         0us         0us     0.00%
`;

describe("parseH2loadOutput", () => {
  it("reads rate, counts and latency from h2load's summary", () => {
    expect(parseH2loadOutput(OUTPUT)).toEqual({
      requestsPerSecond: 14828,
      succeeded: 29656,
      failed: 0,
      errored: 0,
      non2xx: 0,
      meanLatencyMs: 8.5,
      maxLatencyMs: 47.84,
    });
  });

  it("converts µs and s latencies to ms", () => {
    const fast = OUTPUT.replace("1.03ms     47.84ms      8.50ms", "103us     1.20s      850us");
    expect(parseH2loadOutput(fast)).toMatchObject({ meanLatencyMs: 0.85, maxLatencyMs: 1200 });
  });

  it("fails with ToolError on output it does not know", () => {
    expect(() => parseH2loadOutput("connect failed")).toThrow(ToolError);
  });
});
