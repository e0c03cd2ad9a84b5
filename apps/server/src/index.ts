/**
 * raftkv: the server, as a library. `RaftKvMember.start(config, logger)` runs one member;
 * `loadConfig(argv)` builds the configuration from etcd-style flags.
 */
export { ConfigError, flagSpecs, helpText, loadConfig, type ServerConfig } from "./config.js";
export {
  type DevClusterOptions,
  type DevMember,
  planDevCluster,
  runDevCluster,
} from "./dev-cluster.js";
export { ETCD_API_VERSION, RaftKvMember } from "./member.js";
export { clusterIdentity, formatId } from "./membership.js";
export { createLogger, ServerMetrics } from "./observability.js";
