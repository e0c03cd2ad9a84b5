#!/usr/bin/env node
// Installs the Debian packages the test suite needs, when they are missing:
//   etcd-server, etcd-client   etcd 3.4 and etcdctl, the reference server the conformance
//                              suite and the differential tests run against
//   golang-etcd-server-dev     etcd's own .proto files, for the wire-compatibility test
//   libatomic1                 needed at run time by rocksdb-native's prebuilt binary
// Idempotent and quick when everything is present. Needs root (or sudo) and apt-get;
// anywhere else it names what is missing and exits non-zero.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const required = [
  {
    pkg: "libatomic1",
    present: () =>
      existsSync("/usr/lib/x86_64-linux-gnu/libatomic.so.1") ||
      existsSync("/usr/lib/aarch64-linux-gnu/libatomic.so.1"),
  },
  { pkg: "etcd-server", present: () => existsSync("/usr/bin/etcd") },
  { pkg: "etcd-client", present: () => existsSync("/usr/bin/etcdctl") },
  {
    pkg: "golang-etcd-server-dev",
    present: () =>
      existsSync("/usr/share/gocode/src/go.etcd.io/etcd/etcdserver/etcdserverpb/rpc.proto"),
  },
];
// Extra groups a caller can ask for: `node scripts/ensure-system-deps.mjs bench browser`.
const optional = {
  bench: [{ pkg: "nghttp2-client", present: () => existsSync("/usr/bin/h2load") }],
  browser: [{ pkg: "chromium", present: () => existsSync("/usr/bin/chromium") }],
};

const wanted = [...required];
for (const group of process.argv.slice(2)) {
  const extra = optional[group];
  if (!extra) {
    process.stderr.write(`ensure-system-deps: unknown group "${group}"\n`);
    process.exit(2);
  }
  wanted.push(...extra);
}

const missing = wanted.filter((d) => !d.present()).map((d) => d.pkg);
if (missing.length === 0) process.exit(0);

const isRoot = process.getuid?.() === 0;
const hasSudo = !isRoot && spawnSync("sudo", ["-n", "true"]).status === 0;
if (!existsSync("/usr/bin/apt-get") || (!isRoot && !hasSudo)) {
  process.stderr.write(
    `ensure-system-deps: the tests need these Debian packages: ${missing.join(", ")}.\n` +
      "Install them (apt-get install ...) or run as root so this script can.\n",
  );
  process.exit(1);
}

const run = (args) => {
  const cmd = isRoot ? args[0] : "sudo";
  const rest = isRoot ? args.slice(1) : ["-n", ...args];
  process.stdout.write(`ensure-system-deps: ${args.join(" ")}\n`);
  execFileSync(cmd, rest, {
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
};

run(["apt-get", "update", "-qq"]);
run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
const still = wanted.filter((d) => !d.present()).map((d) => d.pkg);
if (still.length > 0) {
  process.stderr.write(`ensure-system-deps: still missing after install: ${still.join(", ")}\n`);
  process.exit(1);
}
