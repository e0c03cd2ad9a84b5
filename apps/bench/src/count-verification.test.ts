import { describe, expect, it } from "vitest";
import { verifyPutCount } from "./count-verification.js";

describe("verifyPutCount", () => {
  it("is exact when the delta equals the successful puts and none failed", () => {
    const v = verifyPutCount(100n, 500n, 400, 0);
    expect(v).toMatchObject({ delta: 400, exact: true, consistent: true });
    expect(v.summary).toMatch(/^verified/);
  });

  it("accepts failed puts that may or may not have been applied", () => {
    expect(verifyPutCount(0n, 402n, 400, 3)).toMatchObject({ exact: false, consistent: true });
    expect(verifyPutCount(0n, 400n, 400, 3)).toMatchObject({ exact: false, consistent: true });
  });

  it("flags a delta below the acknowledged puts: acknowledged writes are missing", () => {
    const v = verifyPutCount(0n, 399n, 400, 0);
    expect(v.consistent).toBe(false);
    expect(v.summary).toMatch(/^MISMATCH/);
  });

  it("flags a delta above every possible put: someone else wrote", () => {
    expect(verifyPutCount(0n, 404n, 400, 3).consistent).toBe(false);
  });
});
