import type { IncomingHttpHeaders } from "node:http2";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { createServer as createTlsServer, type TLSSocket } from "node:tls";

/** TLS on the client port, as etcd's --cert-file, --key-file, --trusted-ca-file, --client-cert-auth. */
export interface ClientPortTls {
  cert: Buffer;
  key: Buffer;
  /** CA(s) client certificates must be signed by. */
  ca?: Buffer | undefined;
  /** Refuse clients without a certificate signed by `ca`. */
  clientCertAuth: boolean;
}

/** True for gRPC's content types (application/grpc, +proto, ;charset…), not gRPC-web. */
export function isGrpc(contentType: string | undefined): boolean {
  return (
    contentType !== undefined &&
    (contentType === "application/grpc" ||
      contentType.startsWith("application/grpc+") ||
      contentType.startsWith("application/grpc;"))
  );
}

/** The HTTP/2 client connection preface starts with these bytes (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.from("PRI * HTTP/2.0");

/** node:http2 server settings of the client port, on either thread. */
export const CLIENT_H2_OPTIONS = {
  settings: { maxConcurrentStreams: 1024 },
  maxSessionMemory: 64,
} as const;

/**
 * The route of a call the lean unary path serves: a POST with a gRPC content type to a
 * path in `routes`; undefined for everything else.
 */
export function leanRoute<R>(
  routes: ReadonlyMap<string, R>,
  headers: IncomingHttpHeaders,
): R | undefined {
  const route = routes.get(headers[":path"] as string);
  return route !== undefined && headers[":method"] === "POST" && isGrpc(headers["content-type"])
    ? route
    : undefined;
}

/**
 * The client port's listener, plaintext or TLS (ALPN h2 and http/1.1, TLS ≥ 1.2, a client
 * certificate required with `clientCertAuth`; a failed handshake concerns that
 * connection only). Each connection goes to `onH2` or `onH1` by its first bytes (see
 * `sniffConnection`); open connections are tracked so that `close` can end them.
 */
export class ClientListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(
    tls: ClientPortTls | undefined,
    onH2: (socket: Socket) => void,
    onH1: (socket: Socket) => void,
  ) {
    const onConnection = (socket: Socket | TLSSocket): void => {
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
      socket.on("error", () => socket.destroy());
      sniffConnection(socket, onH2, onH1);
    };
    if (tls === undefined) {
      this.server = createNetServer(onConnection);
      return;
    }
    const server = createTlsServer(
      {
        cert: tls.cert,
        key: tls.key,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        requestCert: tls.clientCertAuth,
        rejectUnauthorized: tls.clientCertAuth,
        ALPNProtocols: ["h2", "http/1.1"],
        minVersion: "TLSv1.2",
      },
      onConnection,
    );
    server.on("tlsClientError", (_err, socket) => socket.destroy());
    this.server = server;
  }

  /** Starts listening on a TCP port; resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number> {
    return this.bind(
      (done) => this.server.listen(port, host, done),
      () => {
        const address = this.server.address();
        return typeof address === "object" && address !== null ? address.port : port;
      },
    );
  }

  /** Starts listening on a Unix socket; resolves when bound. */
  listenPath(path: string): Promise<void> {
    return this.bind(
      (done) => this.server.listen(path, done),
      () => undefined,
    );
  }

  private bind<T>(start: (done: () => void) => void, result: () => T): Promise<T> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      start(() => {
        this.server.off("error", reject);
        resolve(result());
      });
    });
  }

  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
    });
  }
}

/**
 * Reads a connection's first bytes and hands the socket to `onH2` if they are the HTTP/2
 * preface (paused, with the bytes read put back), else to `onH1` (flowing again), so
 * clients that skip ALPN or use prior knowledge work too.
 */
function sniffConnection(
  socket: Socket,
  onH2: (socket: Socket) => void,
  onH1: (socket: Socket) => void,
): void {
  let head: Buffer = Buffer.alloc(0);
  const sniff = (chunk: Buffer): void => {
    head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    const n = Math.min(head.length, H2_PREFACE.length);
    if (head.length < H2_PREFACE.length && head.subarray(0, n).equals(H2_PREFACE.subarray(0, n))) {
      return;
    }
    socket.off("data", sniff);
    socket.pause();
    socket.unshift(head);
    if (head.subarray(0, H2_PREFACE.length).equals(H2_PREFACE)) {
      // The HTTP/2 session takes over the socket's handle and first drains what was
      // unshifted back into the socket's buffer; the socket must stay paused.
      onH2(socket);
    } else {
      onH1(socket);
      socket.resume();
    }
  };
  socket.on("data", sniff);
}
