import { readFileSync } from "node:fs";
import type { SecureClientSessionOptions, SecureServerOptions } from "node:http2";
import { TlsConfigError } from "./errors.js";

/** TLS between peers. Files are PEM; they are read once, when the transport is created. */
export interface PeerTlsOptions {
  /** This member's certificate (chain), presented to peers as server and as client. */
  certFile: string;
  /** The private key of `certFile`. */
  keyFile: string;
  /**
   * CA certificate(s) that peers' certificates must be signed by. Default: Node's bundled
   * public CAs, which is rarely what a cluster wants.
   */
  caFile?: string;
  /**
   * Mutual TLS: the listener asks every peer for a certificate signed by `caFile` and
   * refuses the connection without one. Default false (any TLS client may connect;
   * membership is still checked per message).
   */
  clientCertAuth?: boolean;
}

/** TLS material loaded from files, ready for node:http2. */
export interface LoadedTls {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | undefined;
  clientCertAuth: boolean;
}

function read(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (cause) {
    throw new TlsConfigError(file, { cause });
  }
}

/** Reads the files named by `options`; throws TlsConfigError naming the first unreadable one. */
export function loadTls(options: PeerTlsOptions): LoadedTls {
  return {
    cert: read(options.certFile),
    key: read(options.keyFile),
    ca: options.caFile === undefined ? undefined : read(options.caFile),
    clientCertAuth: options.clientCertAuth ?? false,
  };
}

export function serverTlsOptions(tls: LoadedTls): SecureServerOptions {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    requestCert: tls.clientCertAuth,
    rejectUnauthorized: tls.clientCertAuth,
    // Peers speak HTTP/2 only; refusing HTTP/1 keeps stray clients out early.
    allowHTTP1: false,
    minVersion: "TLSv1.2",
  };
}

export function clientTlsOptions(tls: LoadedTls | undefined): SecureClientSessionOptions {
  if (tls === undefined) return {};
  return {
    // Always present our certificate: a peer with clientCertAuth requires it.
    cert: tls.cert,
    key: tls.key,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    minVersion: "TLSv1.2",
  };
}
