import { type Client, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { Cluster, KV, Lease, Maintenance, Watch } from "@raftkv/proto/etcd";
import { endpointToUrl } from "./endpoint.js";

/** Options of `createEtcdClient`. */
export interface EtcdClientOptions {
  /** Deadline of each unary call unless the call sets its own. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /**
   * Send HTTP/2 PINGs this often on a connection with calls in flight, and drop the
   * connection when one is not answered within `pingTimeoutMs`; this is how a client
   * notices a member that was paused or whose host vanished. Default 2 000 ms.
   */
  readonly pingIntervalMs?: number;
  /** Default 3 000 ms. */
  readonly pingTimeoutMs?: number;
}

/** gRPC clients for the etcd v3 services of one endpoint, over one HTTP/2 connection. */
export interface EtcdClient {
  /** The endpoint as given (`host:port`). */
  readonly endpoint: string;
  readonly kv: Client<typeof KV>;
  readonly maintenance: Client<typeof Maintenance>;
  readonly watch: Client<typeof Watch>;
  readonly lease: Client<typeof Lease>;
  readonly cluster: Client<typeof Cluster>;
  /** Closes the connection; calls in flight fail with Code.Canceled. */
  close(): void;
  [Symbol.dispose](): void;
}

/**
 * Connects (lazily, on the first call) to an etcd v3 compatible server over plaintext
 * gRPC (always HTTP/2 with connect-node's gRPC transport), with the service descriptors of `@raftkv/proto/etcd`.
 *
 * @throws InvalidEndpointError when `endpoint` is not `host:port` or `http://host:port`.
 */
export function createEtcdClient(endpoint: string, options: EtcdClientOptions = {}): EtcdClient {
  const baseUrl = endpointToUrl(endpoint);
  const sessionManager = new Http2SessionManager(baseUrl, {
    pingIntervalMs: options.pingIntervalMs ?? 2_000,
    pingTimeoutMs: options.pingTimeoutMs ?? 3_000,
  });
  const transport = createGrpcTransport({
    baseUrl,
    sessionManager,
    defaultTimeoutMs: options.timeoutMs ?? 10_000,
  });
  const close = (): void => sessionManager.abort();
  return {
    endpoint,
    kv: createClient(KV, transport),
    maintenance: createClient(Maintenance, transport),
    watch: createClient(Watch, transport),
    lease: createClient(Lease, transport),
    cluster: createClient(Cluster, transport),
    close,
    [Symbol.dispose]: close,
  };
}
