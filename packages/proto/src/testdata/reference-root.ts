import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/** Where Debian's golang-etcd-server-dev installs etcd's Go source and .proto files. */
export const etcdSourceDir = "/usr/share/gocode/src/go.etcd.io/etcd";

/** etcd's client API files, dependencies first. */
export const etcdReferenceFiles = [
  "mvcc/mvccpb/kv.proto",
  "auth/authpb/auth.proto",
  "etcdserver/etcdserverpb/rpc.proto",
] as const;

/** Our own peer protocol, read from the repository's proto/ tree. */
export const raftProtoFile = fileURLToPath(
  new URL("../../../../proto/raftkv/raft/v1/raft.proto", import.meta.url),
);

/** A reference .proto file the wire tests need is not on this machine. */
export class MissingReferenceProtoError extends Error {
  readonly code = "MISSING_REFERENCE_PROTO";
  constructor(
    readonly path: string,
    readonly debianPackage: string,
  ) {
    super(
      `${path} is missing: install the Debian package ${debianPackage} ` +
        `(apt-get install ${debianPackage}, or run scripts/ensure-system-deps.mjs as root)`,
    );
    this.name = "MissingReferenceProtoError";
  }
}

/**
 * Removes the Go-only parts of etcd's .proto files: the gogoproto import and file
 * options (Go code generation only) and the google.api.http annotations (grpc-gateway
 * routes). Neither changes a single byte on the wire, and leaving them out means the
 * test needs no include path for gogo.proto or googleapis.
 */
export function stripGoOnlyOptions(source: string): string {
  let out = source
    .replace(/^\s*import\s+"(gogoproto|google\/api)\/[^"]+";\s*$/gm, "")
    .replace(/^\s*option\s+\(gogoproto\.[a-z_]+\)\s*=\s*[a-z]+;\s*$/gm, "");
  const marker = /option\s+\(google\.api\.http\)\s*=\s*\{/;
  for (let m = marker.exec(out); m !== null; m = marker.exec(out)) {
    // The annotation's value nests braces (additional_bindings { ... }): skip to the
    // brace that closes the one the marker ends with, then past the semicolon.
    let depth = 1;
    let i = m.index + m[0].length;
    while (depth > 0 && i < out.length) {
      if (out[i] === "{") depth++;
      else if (out[i] === "}") depth--;
      i++;
    }
    const semicolon = out.indexOf(";", i);
    if (depth !== 0 || semicolon < 0) throw new Error("unbalanced google.api.http option");
    out = out.slice(0, m.index) + out.slice(semicolon + 1);
  }
  if (/\((gogoproto|google\.api)\./.test(out)) {
    throw new Error("a gogoproto or google.api option survived stripping");
  }
  return out;
}

/** Parses .proto sources into one protobufjs root, keeping field names as written. */
export function parseProtoSources(sources: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  for (const source of sources) protobuf.parse(source, root, { keepCase: true });
  root.resolveAll();
  return root;
}

/**
 * etcd's own kv.proto, auth.proto and rpc.proto from Debian, parsed by protobufjs.
 *
 * @throws MissingReferenceProtoError naming golang-etcd-server-dev when a file is missing.
 */
export function loadEtcdReferenceRoot(sourceDir: string = etcdSourceDir): protobuf.Root {
  const sources = etcdReferenceFiles.map((file) => {
    const path = `${sourceDir}/${file}`;
    if (!existsSync(path)) throw new MissingReferenceProtoError(path, "golang-etcd-server-dev");
    return stripGoOnlyOptions(readFileSync(path, "utf8"));
  });
  return parseProtoSources(sources);
}

/** Our raft.proto parsed by protobufjs: an encoder and decoder independent of protobuf-es. */
export function loadRaftReferenceRoot(): protobuf.Root {
  return parseProtoSources([readFileSync(raftProtoFile, "utf8")]);
}
