/**
 * @raftkv/client: an etcd v3 client for Node, for raftkv and any etcd-compatible server.
 */
export {
  type CallOptions,
  type ClientOptions,
  createRaftkvClient,
  type GetOptions,
  RaftkvClient,
} from "./client.js";
export { EtcdError, type EtcdErrorCode, toEtcdError } from "./errors.js";
