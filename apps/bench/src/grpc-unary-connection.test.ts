import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { createServer as createNetServer, type Server as NetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CallTimeoutError,
  ConnectionClosedError,
  GrpcStatusError,
  Http2ProtocolError,
  InvalidOptionError,
} from "./errors.js";
import { findFreePorts } from "./free-port.js";
import { frameGrpcMessage } from "./grpc-message.js";
import { GrpcUnaryConnection } from "./grpc-unary-connection.js";

/**
 * A gRPC server on node:http2 (nghttp2 underneath, an independent HTTP/2 and HPACK
 * implementation): whatever it encodes, the client must decode.
 */
function startServer(settings: http2.Settings = {}): Promise<{
  port: number;
  server: http2.Http2Server;
  maxConcurrentSeen: () => number;
}> {
  const server = http2.createServer({ settings });
  let open = 0;
  let maxSeen = 0;
  server.on("stream", (stream, headers) => {
    open += 1;
    maxSeen = Math.max(maxSeen, open);
    stream.on("close", () => {
      open -= 1;
    });
    const chunks: Buffer[] = [];
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () => {
      const message = Buffer.concat(chunks).subarray(5);
      const grpc = { ":status": 200, "content-type": "application/grpc" };
      const reply = (body: Uint8Array, trailers: http2.OutgoingHttpHeaders): void => {
        stream.respond(grpc, { waitForTrailers: true });
        stream.on("wantTrailers", () => stream.sendTrailers(trailers));
        stream.end(frameGrpcMessage(body));
      };
      switch (headers[":path"]) {
        case "/test.Echo/Echo":
          reply(message, { "grpc-status": "0" });
          return;
        case "/test.Echo/Slow":
          setTimeout(() => reply(message, { "grpc-status": "0" }), 20);
          return;
        case "/test.Echo/ManyTrailers": {
          // Fresh random values every call: the server's encoder keeps adding to and
          // evicting from its dynamic table, which the client's decoder must mirror.
          const trailers: http2.OutgoingHttpHeaders = { "grpc-status": "0" };
          for (let i = 0; i < 20; i++) {
            trailers[`x-t${i}`] = randomBytes(8 + (i % 5) * 13).toString("base64");
          }
          reply(message, trailers);
          return;
        }
        case "/test.Echo/BigTrailer":
          // Larger than one 16 KiB frame: it arrives as HEADERS + CONTINUATION.
          reply(message, { "grpc-status": "0", "x-big": "b".repeat(40_000) });
          return;
        case "/test.Echo/Fail":
          reply(new Uint8Array(0), { "grpc-status": "5", "grpc-message": "not found: caf%C3%A9" });
          return;
        case "/test.Echo/TrailersOnly":
          stream.respond(
            { ...grpc, "grpc-status": "7", "grpc-message": "denied" },
            { endStream: true },
          );
          return;
        case "/test.Echo/NotGrpc":
          stream.respond({ ":status": 404 }, { endStream: true });
          return;
        case "/test.Echo/Never":
          return;
        case "/test.Echo/Hangup":
          stream.session?.destroy();
          return;
        default:
          stream.respond({ ...grpc, "grpc-status": "12" }, { endStream: true });
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      resolve({
        port: typeof address === "object" && address ? address.port : 0,
        server,
        maxConcurrentSeen: () => maxSeen,
      });
    });
  });
}

let port = 0;
let server: http2.Http2Server;

beforeAll(async () => {
  ({ port, server } = await startServer());
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const connect = (options: { callTimeoutMs?: number; maxResponseBytes?: number } = {}) =>
  GrpcUnaryConnection.connect({ host: "127.0.0.1", port, ...options });

describe("GrpcUnaryConnection against node:http2", { timeout: 60_000 }, () => {
  it("returns the response message of a unary call", async () => {
    await using connection = await connect();
    const response = await connection.unary("/test.Echo/Echo", Buffer.from("hello"));
    expect(Buffer.from(response).toString()).toBe("hello");
  });

  it("sends and receives messages larger than the flow-control windows and frame size", async () => {
    await using connection = await connect();
    const big = randomBytes(300_000);
    const calls = Array.from({ length: 4 }, () => connection.unary("/test.Echo/Echo", big));
    for (const response of await Promise.all(calls)) {
      expect(Buffer.compare(Buffer.from(response), big)).toBe(0);
    }
  });

  it("keeps its HPACK table in step with the server's over many calls", async () => {
    await using connection = await connect();
    for (let i = 0; i < 200; i++) {
      const response = await connection.unary("/test.Echo/ManyTrailers", Buffer.from(`m${i}`));
      expect(Buffer.from(response).toString()).toBe(`m${i}`);
    }
  });

  it("reassembles a trailer block split across CONTINUATION frames", async () => {
    await using connection = await connect();
    const response = await connection.unary("/test.Echo/BigTrailer", Buffer.from("x"));
    expect(Buffer.from(response).toString()).toBe("x");
  });

  it("fails a call with the server's grpc-status and decoded grpc-message", async () => {
    await using connection = await connect();
    const error = await connection.unary("/test.Echo/Fail", Buffer.alloc(0)).catch((e) => e);
    expect(error).toBeInstanceOf(GrpcStatusError);
    expect(error).toMatchObject({ status: 5, grpcMessage: "not found: café" });
  });

  it("understands a trailers-only response", async () => {
    await using connection = await connect();
    const error = await connection
      .unary("/test.Echo/TrailersOnly", Buffer.alloc(0))
      .catch((e) => e);
    expect(error).toMatchObject({ status: 7, grpcMessage: "denied" });
  });

  it("maps an HTTP error without grpc-status to a gRPC code (404: UNIMPLEMENTED)", async () => {
    await using connection = await connect();
    const error = await connection.unary("/test.Echo/NotGrpc", Buffer.alloc(0)).catch((e) => e);
    expect(error).toBeInstanceOf(GrpcStatusError);
    expect(error.status).toBe(12);
  });

  it("fails a response larger than maxResponseBytes with RESOURCE_EXHAUSTED", async () => {
    await using connection = await connect({ maxResponseBytes: 1000 });
    const error = await connection.unary("/test.Echo/Echo", randomBytes(5000)).catch((e) => e);
    expect(error).toMatchObject({ status: 8 });
    // The connection stays usable.
    expect(
      Buffer.from(await connection.unary("/test.Echo/Echo", Buffer.from("ok"))).toString(),
    ).toBe("ok");
  });

  it("times out a call that gets no answer, and keeps serving others", async () => {
    await using connection = await connect({ callTimeoutMs: 200 });
    const error = await connection.unary("/test.Echo/Never", Buffer.alloc(0)).catch((e) => e);
    expect(error).toBeInstanceOf(CallTimeoutError);
    expect(
      Buffer.from(await connection.unary("/test.Echo/Echo", Buffer.from("ok"))).toString(),
    ).toBe("ok");
  });

  it("fails in-flight calls with ConnectionClosedError when the server drops the connection", async () => {
    await using connection = await connect();
    const error = await connection.unary("/test.Echo/Hangup", Buffer.alloc(0)).catch((e) => e);
    expect(error).toBeInstanceOf(ConnectionClosedError);
    const after = await connection.unary("/test.Echo/Echo", Buffer.alloc(0)).catch((e) => e);
    expect(after).toBeInstanceOf(ConnectionClosedError);
  });

  it("fails calls still in flight when the client closes", async () => {
    const connection = await connect();
    const pending = connection.unary("/test.Echo/Never", Buffer.alloc(0)).catch((e) => e);
    await connection.close();
    expect(await pending).toBeInstanceOf(ConnectionClosedError);
  });

  it("queues calls beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS", async () => {
    const limited = await startServer({ maxConcurrentStreams: 2 });
    try {
      await using connection = await GrpcUnaryConnection.connect({
        host: "127.0.0.1",
        port: limited.port,
      });
      const responses = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          connection.unary("/test.Echo/Slow", Buffer.from(`${i}`)),
        ),
      );
      expect(responses.map((r) => Buffer.from(r).toString())).toEqual(
        Array.from({ length: 20 }, (_, i) => `${i}`),
      );
      expect(limited.maxConcurrentSeen()).toBeLessThanOrEqual(2);
    } finally {
      await new Promise((resolve) => limited.server.close(resolve));
    }
  });

  it("copies the request before call() returns, so the caller may reuse its buffer", async () => {
    await using connection = await connect();
    const method = connection.prepare("/test.Echo/Echo");
    const frame = frameGrpcMessage(Buffer.from("aaaa"));
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      let done = 0;
      for (const letter of ["a", "b", "c"]) {
        frame.write(letter.repeat(4), 5, "latin1");
        connection.call(method, frame, (error, response) => {
          expect(error).toBeNull();
          seen.push(Buffer.from(response as Uint8Array).toString());
          if (++done === 3) resolve();
        });
      }
    });
    expect(seen.sort()).toEqual(["aaaa", "bbbb", "cccc"]);
  });
});

describe("GrpcUnaryConnection.connect", () => {
  it("rejects with ConnectionClosedError when nothing listens", async () => {
    const [free] = await findFreePorts(1);
    await expect(
      GrpcUnaryConnection.connect({ host: "127.0.0.1", port: free as number }),
    ).rejects.toBeInstanceOf(ConnectionClosedError);
  });

  it("rejects with Http2ProtocolError when the server does not speak HTTP/2", async () => {
    const http1: NetServer = createNetServer((socket) => {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n");
    });
    await new Promise<void>((resolve) => http1.listen(0, "127.0.0.1", resolve));
    const address = http1.address();
    try {
      await expect(
        GrpcUnaryConnection.connect({
          host: "127.0.0.1",
          port: typeof address === "object" && address ? address.port : 0,
        }),
      ).rejects.toBeInstanceOf(Http2ProtocolError);
    } finally {
      http1.close();
    }
  });

  it("rejects bad options with InvalidOptionError", () => {
    expect(() => GrpcUnaryConnection.connect({ host: "127.0.0.1", port: 0 })).toThrow(
      InvalidOptionError,
    );
    expect(() =>
      GrpcUnaryConnection.connect({ host: "127.0.0.1", port: 1, callTimeoutMs: -1 }),
    ).toThrow(InvalidOptionError);
  });

  it("rejects a path that is not /package.Service/Method", async () => {
    await using connection = await connect();
    expect(() => connection.prepare("not a path")).toThrow(InvalidOptionError);
  });
});
