import type { ClusterDriver, DriverOptions } from "./cluster-driver.js";
import { createProcessCluster, etcdStyleFlags } from "./process-cluster.js";

/** Where Debian's etcd-server package installs etcd. */
export const defaultEtcdCommand: readonly string[] = ["/usr/bin/etcd"];

/**
 * A cluster of local etcd processes (3.4+), the reference the suite is checked
 * against. `options.command` replaces the etcd binary.
 */
export function createDriver(options: DriverOptions = {}): ClusterDriver {
  const [command, ...leading] = options.command ?? defaultEtcdCommand;
  return createProcessCluster({
    ...options,
    commandFor: (member, cluster) => ({
      command: command ?? "etcd",
      args: [...leading, ...etcdStyleFlags(member, cluster)],
      // etcd 3.4 refuses to start on arm64, which it does not support officially, unless
      // told otherwise.
      ...(process.arch === "arm64" ? { env: { ETCD_UNSUPPORTED_ARCH: "arm64" } } : {}),
    }),
  });
}
