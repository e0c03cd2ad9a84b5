import {
  createServer as createHttp1Server,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import {
  createServer as createHttp2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from "node:http2";
import type { ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CLIENT_H2_OPTIONS, ClientListener, leanRoute } from "./connection.js";
import { encodeGrpcMessage, GrpcCode, type GrpcStatusError } from "./status.js";
import { serveUnary, type UnaryRoute } from "./unary-server.js";

export type HttpRequest = IncomingMessage | Http2ServerRequest;
export type HttpResponse = ServerResponse | Http2ServerResponse;
export type HttpRoute = (req: HttpRequest, res: HttpResponse) => void;

export interface ClientPortOptions {
  /** Unary gRPC methods served on the lean node:http2 path, by path ("/etcdserverpb.KV/Range"). */
  unaryRoutes: ReadonlyMap<string, UnaryRoute>;
  /** Every service on Connect: the Connect protocol, gRPC-web, and gRPC for what is not lean. */
  connectRoutes(router: ConnectRouter): void;
  /** Plain HTTP endpoints by path (/metrics, /health, /readyz). */
  httpRoutes: ReadonlyMap<string, HttpRoute>;
  /** Largest request message accepted, in bytes. */
  maxReceiveMessageBytes: number;
  toStatus(error: unknown): GrpcStatusError;
  /** Called once per lean call with the status it ended with (for metrics). */
  onDone?: ((path: string, status: GrpcCode) => void) | undefined;
  /** Serve TLS (PEM material); without it the port is plaintext. */
  tls?: ClientPortTls | undefined;
}

import type { ClientPortTls } from "./connection.js";

export type { ClientPortTls } from "./connection.js";

/**
 * Answers a call nobody serves. gRPC clients get HTTP 200 with grpc-status 12
 * (UNIMPLEMENTED), as grpc-go servers do; an HTTP 404 without a gRPC content-type
 * would surface in grpc-go clients as a confusing transport error.
 */
function unimplemented(req: HttpRequest, res: HttpResponse): void {
  const contentType = req.headers["content-type"];
  const path = req.url ?? "";
  if (contentType?.startsWith("application/grpc")) {
    res.writeHead(200, {
      "content-type": contentType.startsWith("application/grpc-web")
        ? "application/grpc-web+proto"
        : "application/grpc",
      "grpc-status": String(GrpcCode.UNIMPLEMENTED),
      "grpc-message": encodeGrpcMessage(`unknown service or method ${path}`),
    });
    res.end();
    return;
  }
  res.writeHead(404, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: "unimplemented", message: `unknown path ${path}` }));
}

/**
 * The client port: gRPC on HTTP/2 (the lean path for hot unary methods, Connect for the
 * rest), the Connect protocol and gRPC-web on HTTP/1.1 and HTTP/2, and plain HTTP
 * endpoints — all on one port, plaintext or TLS. The first bytes of a connection (after
 * the TLS handshake, which offers ALPN h2 and http/1.1) decide between HTTP/2 and
 * HTTP/1.1, so clients that skip ALPN or use prior knowledge work too.
 */
export class ClientPort {
  private readonly listener: ClientListener;

  constructor(options: ClientPortOptions) {
    const connect = connectNodeAdapter({
      routes: options.connectRoutes,
      grpc: true,
      grpcWeb: true,
      connect: true,
      readMaxBytes: options.maxReceiveMessageBytes,
      fallback: unimplemented as Parameters<typeof connectNodeAdapter>[0]["fallback"],
    });
    const compat = (req: HttpRequest, res: HttpResponse): void => {
      const path = (req.url ?? "").split("?", 1)[0] as string;
      const route = options.httpRoutes.get(path);
      if (route) route(req, res);
      else connect(req, res);
    };
    // Never listens: it only turns streams the lean path does not take into
    // request/response pairs through Node's compatibility layer, which attaches to a
    // server once it has a 'request' listener.
    const compatH2 = createHttp2Server(
      compat as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
    );
    const h2 = createHttp2Server(CLIENT_H2_OPTIONS);
    const unaryOptions = {
      maxReceiveMessageBytes: options.maxReceiveMessageBytes,
      toStatus: options.toStatus,
      onDone: options.onDone,
    };
    h2.on(
      "stream",
      (
        stream: ServerHttp2Stream,
        headers: IncomingHttpHeaders,
        flags: number,
        rawHeaders: string[],
      ) => {
        const route = leanRoute(options.unaryRoutes, headers);
        if (route !== undefined) {
          serveUnary(stream, headers, route, unaryOptions);
          return;
        }
        compatH2.emit("stream", stream, headers, flags, rawHeaders);
      },
    );
    h2.on("sessionError", () => {});
    const h1 = createHttp1Server(compat as (req: IncomingMessage, res: ServerResponse) => void);
    h1.keepAliveTimeout = 30_000;

    this.listener = new ClientListener(
      options.tls,
      (socket) => h2.emit("connection", socket),
      (socket) => h1.emit("connection", socket),
    );
  }

  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return this.listener.listen(host, port);
  }

  /** Starts listening on a Unix socket (the client front's way in); resolves when bound. */
  listenPath(path: string): Promise<void> {
    return this.listener.listenPath(path);
  }

  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void> {
    return this.listener.close();
  }
}
