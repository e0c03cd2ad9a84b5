import { connect } from "node:http2";
import { FrameDecoder, frameMessage } from "../grpc-frame.js";

export interface RawCallResult {
  httpStatus: number;
  grpcStatus: number | undefined;
  grpcMessage: string;
  responses: Buffer[];
}

/**
 * One gRPC call made by hand on node:http2, so tests can send what a well-behaved client
 * never would: garbage, oversized frames, wrong ids.
 */
export async function rawGrpcCall(
  baseUrl: string,
  path: string,
  body: Buffer[],
  headers: Record<string, string> = {},
): Promise<RawCallResult> {
  const session = connect(baseUrl);
  session.on("error", () => {});
  try {
    return await new Promise<RawCallResult>((resolve, reject) => {
      const result: RawCallResult = {
        httpStatus: 0,
        grpcStatus: undefined,
        grpcMessage: "",
        responses: [],
      };
      const decoder = new FrameDecoder(64 * 1024 * 1024);
      const req = session.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/grpc",
        te: "trailers",
        ...headers,
      });
      const status = (h: Record<string, unknown>) => {
        if (h["grpc-status"] !== undefined) result.grpcStatus = Number(h["grpc-status"]);
        if (h["grpc-message"] !== undefined)
          result.grpcMessage = decodeURIComponent(String(h["grpc-message"]));
      };
      req.on("response", (h) => {
        result.httpStatus = Number(h[":status"]);
        status(h);
      });
      req.on("trailers", status);
      req.on("data", (chunk: Buffer) => result.responses.push(...decoder.push(chunk)));
      req.on("error", () => {});
      req.on("close", () => resolve(result));
      setTimeout(() => reject(new Error("raw call timed out")), 20_000).unref();
      for (const b of body) req.write(b);
      req.end();
    });
  } finally {
    session.destroy();
  }
}

export { frameMessage };
