import { existsSync, statSync } from "node:fs";
import { type ClientHttp2Session, connect as connectH2 } from "node:http2";
import { createConnection } from "node:net";
import { dirname } from "node:path";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import {
  KV,
  Maintenance,
  PutRequestSchema,
  PutResponseSchema,
  RangeRequestSchema,
  RangeResponseSchema,
  StatusResponseSchema,
} from "@raftkv/proto/etcd";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientFront } from "./client-front.js";
import { ClientPort, type ClientPortOptions } from "./client-port.js";
import { encodeFrame } from "./frame.js";
import { GrpcCode, GrpcStatusError } from "./status.js";
import type { UnaryRoute } from "./unary-server.js";

const putRoute: UnaryRoute = {
  input: PutRequestSchema,
  output: PutResponseSchema,
  handle(request) {
    const put = request as unknown as { key: Uint8Array; value: Uint8Array };
    if (put.key.length === 0)
      throw new GrpcStatusError(GrpcCode.INVALID_ARGUMENT, "etcdserver: key is not provided");
    return create(PutResponseSchema, { header: { revision: BigInt(put.value.length) } });
  },
};

const slowRoute: UnaryRoute = {
  input: RangeRequestSchema,
  output: RangeResponseSchema,
  handle: () => new Promise(() => {}),
};

const silent = { error() {} };

/** The two ways to serve the client port: on the main thread, or with a worker in front. */
const kinds: Array<[string, (options: ClientPortOptions) => ClientPort | ClientFront]> = [
  ["ClientPort", (options) => new ClientPort(options)],
  ["ClientFront (connections on a worker thread)", (options) => new ClientFront(options, silent)],
];

describe.each(kinds)("%s", (_name, make) => {
  let port: ClientPort | ClientFront;
  let url: string;
  beforeAll(async () => {
    port = make({
      unaryRoutes: new Map([
        ["/etcdserverpb.KV/Put", putRoute],
        ["/etcdserverpb.KV/Range", slowRoute],
      ]),
      connectRoutes: (router) =>
        router.service(Maintenance, {
          status: () => create(StatusResponseSchema, { version: "test" }),
        }),
      httpRoutes: new Map([["/health", (_req, res) => res.end('{"health":"true"}')]]),
      maxReceiveMessageBytes: 1024,
      toStatus: (error) =>
        error instanceof GrpcStatusError
          ? error
          : new GrpcStatusError(GrpcCode.UNKNOWN, String(error)),
    });
    const bound = await port.listen("127.0.0.1", 0);
    url = `http://127.0.0.1:${bound}`;
  });
  afterAll(() => port.close());

  const grpc = () => createClient(KV, createGrpcTransport({ baseUrl: url }));

  it("serves a lean unary method over gRPC", async () => {
    const res = await grpc().put({ key: new TextEncoder().encode("k"), value: new Uint8Array(7) });
    expect(res.header?.revision).toBe(7n);
  });

  it("maps a handler's error to its gRPC status and message", async () => {
    const err = await grpc()
      .put({ key: new Uint8Array() })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.InvalidArgument);
    expect((err as ConnectError).rawMessage).toBe("etcdserver: key is not provided");
  });

  it("refuses a request larger than the receive limit with RESOURCE_EXHAUSTED", async () => {
    const err = await grpc()
      .put({ key: new Uint8Array(1), value: new Uint8Array(4096) })
      .catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.ResourceExhausted);
  });

  it("ends a call at its grpc-timeout with DEADLINE_EXCEEDED", async () => {
    const err = await grpc()
      .range({}, { timeoutMs: 200 })
      .catch((e: unknown) => e);
    expect((err as ConnectError).code).toBe(Code.DeadlineExceeded);
  });

  it("answers unknown methods with grpc-status 12, not HTTP 404", async () => {
    const session: ClientHttp2Session = connectH2(url);
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/etcdserverpb.Nope/Nothing",
          "content-type": "application/grpc",
          te: "trailers",
        });
        req.on("response", (h) => resolve(h));
        req.on("error", reject);
        req.end(encodeFrame(new Uint8Array()));
      });
      expect(headers[":status"]).toBe(200);
      expect(headers["grpc-status"]).toBe("12");
    } finally {
      session.close();
    }
  });

  it("answers a raw framed request and writes status trailers", async () => {
    const session = connectH2(url);
    try {
      const body = toBinary(
        PutRequestSchema,
        create(PutRequestSchema, { key: new Uint8Array([1]), value: new Uint8Array(3) }),
      );
      const { data, trailers } = await new Promise<{
        data: Buffer;
        trailers: Record<string, unknown>;
      }>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/etcdserverpb.KV/Put",
          "content-type": "application/grpc",
          te: "trailers",
        });
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("trailers", (t) => resolve({ data: Buffer.concat(chunks), trailers: t }));
        req.on("error", reject);
        req.end(encodeFrame(body));
      });
      expect(trailers["grpc-status"]).toBe("0");
      expect(fromBinary(PutResponseSchema, data.subarray(5)).header?.revision).toBe(3n);
    } finally {
      session.close();
    }
  });

  it("serves the Connect protocol with JSON over HTTP/1.1 on the same port", async () => {
    const client = createClient(
      Maintenance,
      createConnectTransport({ baseUrl: url, httpVersion: "1.1" }),
    );
    expect((await client.status({})).version).toBe("test");
    const res = await fetch(`${url}/etcdserverpb.Maintenance/Status`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(await res.json()).toMatchObject({ version: "test" });
  });

  it("answers an undecodable request message with INTERNAL and keeps serving", async () => {
    const session = connectH2(url);
    try {
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/etcdserverpb.KV/Put",
          "content-type": "application/grpc",
          te: "trailers",
        });
        req.on("response", (h) => {
          if (h["grpc-status"] !== undefined) resolve(h);
        });
        req.on("trailers", resolve);
        req.on("error", reject);
        req.end(encodeFrame(Uint8Array.of(0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f)));
      });
      expect(trailers["grpc-status"]).toBe(String(GrpcCode.INTERNAL));
      expect(String(trailers["grpc-message"])).toContain("unmarshalling");
    } finally {
      session.close();
    }
    expect(
      (await grpc().put({ key: new Uint8Array([1]), value: new Uint8Array(2) })).header?.revision,
    ).toBe(2n);
  });

  it("survives garbage bytes on the port", async () => {
    const { port } = new URL(url);
    await new Promise<void>((resolve) => {
      const socket = createConnection(Number(port), "127.0.0.1", () => {
        socket.write(Buffer.from("\x00\x01garbage that is neither HTTP/1.1 nor HTTP/2\r\n\r\n"));
      });
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
      socket.resume();
      setTimeout(() => socket.destroy(), 2_000);
    });
    expect(
      (await grpc().put({ key: new Uint8Array([1]), value: new Uint8Array(3) })).header?.revision,
    ).toBe(3n);
  });

  it("serves plain HTTP endpoints", async () => {
    const res = await fetch(`${url}/health`);
    expect(await res.text()).toBe('{"health":"true"}');
  });

  it("serves a Connect-only method over gRPC and the Connect protocol over HTTP/2", async () => {
    const viaGrpc = createClient(Maintenance, createGrpcTransport({ baseUrl: url }));
    expect((await viaGrpc.status({})).version).toBe("test");
    const viaConnect = createClient(
      Maintenance,
      createConnectTransport({ baseUrl: url, httpVersion: "2" }),
    );
    expect((await viaConnect.status({})).version).toBe("test");
  });

  it("serves many concurrent calls on one connection, each with its own answer", async () => {
    const client = grpc();
    const values = Array.from({ length: 300 }, (_, i) => i % 50);
    const results = await Promise.all(
      values.map((n) => client.put({ key: Uint8Array.of(1), value: new Uint8Array(n) })),
    );
    expect(results.map((r) => Number(r.header?.revision))).toEqual(values);
  });

  it("refuses to listen on a port in use, with the system's code", async () => {
    const { port: bound } = new URL(url);
    const other = make({
      unaryRoutes: new Map(),
      connectRoutes: () => {},
      httpRoutes: new Map(),
      maxReceiveMessageBytes: 1024,
      toStatus: (error) => new GrpcStatusError(GrpcCode.UNKNOWN, String(error)),
    });
    try {
      await expect(other.listen("127.0.0.1", Number(bound))).rejects.toMatchObject({
        code: "EADDRINUSE",
      });
    } finally {
      await other.close();
    }
  });
});

describe("ClientFront", () => {
  it("keeps its internal socket private, stops answering once closed and removes it", async () => {
    const front = new ClientFront(
      {
        unaryRoutes: new Map([["/etcdserverpb.KV/Put", putRoute]]),
        connectRoutes: () => {},
        httpRoutes: new Map([["/health", (_req, res) => res.end("ok")]]),
        maxReceiveMessageBytes: 1024,
        toStatus: (error) => new GrpcStatusError(GrpcCode.UNKNOWN, String(error)),
      },
      silent,
    );
    const bound = await front.listen("127.0.0.1", 0);
    expect(await (await fetch(`http://127.0.0.1:${bound}/health`)).text()).toBe("ok");
    const socketPath = (front as unknown as { socketPath: string }).socketPath;
    expect(existsSync(socketPath)).toBe(true);
    expect(statSync(dirname(socketPath)).mode & 0o077).toBe(0);
    await front.close();
    await expect(fetch(`http://127.0.0.1:${bound}/health`)).rejects.toThrow();
    expect(existsSync(socketPath)).toBe(false);
  });
});
