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

/**
 * A listener for the client port, plaintext or TLS (ALPN h2 and http/1.1, TLS ≥ 1.2, a
 * client certificate required with `clientCertAuth`). A failed handshake concerns that
 * connection only.
 */
export function createClientListener(
  tls: ClientPortTls | undefined,
  onConnection: (socket: Socket | TLSSocket) => void,
): Server {
  if (tls === undefined) return createNetServer(onConnection);
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
  return server;
}

/**
 * Reads a connection's first bytes and hands the socket to `onH2` if they are the HTTP/2
 * preface (paused, with the bytes read put back), else to `onH1` (flowing again), so
 * clients that skip ALPN or use prior knowledge work too.
 */
export function sniffConnection(
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
