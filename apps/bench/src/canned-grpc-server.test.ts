import http2 from "node:http2";
import { afterEach, describe, expect, it } from "vitest";
import { CannedGrpcServer } from "./canned-grpc-server.js";
import { frameGrpcMessage } from "./grpc-message.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";

let server: CannedGrpcServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe("CannedGrpcServer", { timeout: 60_000 }, () => {
  it("answers every call with the canned message", async () => {
    server = await CannedGrpcServer.listen({ response: Buffer.from("canned") });
    await using connection = await GrpcUnaryConnection.connect({
      host: "127.0.0.1",
      port: server.port,
    });
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        connection.unary("/any.Service/Method", Buffer.from(`${i}`)),
      ),
    );
    expect(new Set(responses.map((r) => Buffer.from(r).toString()))).toEqual(new Set(["canned"]));
    expect(server.requests).toBe(100);
  });

  it("is valid HTTP/2 and gRPC for an independent client (node:http2)", async () => {
    server = await CannedGrpcServer.listen({ response: Buffer.from("canned") });
    const session = http2.connect(`http://127.0.0.1:${server.port}`);
    try {
      const result = await new Promise<{ status: unknown; grpcStatus: unknown; body: Buffer }>(
        (resolve, reject) => {
          const stream = session.request({
            ":method": "POST",
            ":path": "/any.Service/Method",
            "content-type": "application/grpc",
            te: "trailers",
          });
          const chunks: Buffer[] = [];
          let status: unknown;
          stream.on("response", (headers) => {
            status = headers[":status"];
          });
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("trailers", (trailers) =>
            resolve({ status, grpcStatus: trailers["grpc-status"], body: Buffer.concat(chunks) }),
          );
          stream.on("error", reject);
          stream.end(frameGrpcMessage(Buffer.from("request")));
        },
      );
      expect(result.status).toBe(200);
      expect(result.grpcStatus).toBe("0");
      expect(result.body.equals(frameGrpcMessage(Buffer.from("canned")))).toBe(true);
    } finally {
      session.close();
    }
  });
});
