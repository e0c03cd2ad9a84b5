// Measures the client port's per-call CPU: the same Put handler served on the lean
// node:http2 path and through connect-node (docs/adr/014-server-client-port-lean-grpc.md).
//   pnpm --filter raftkv exec tsx src/bench-client-port.ts lean 23790 &
//   h2load -n 100000 -c 8 -m 32 -t 1 --data=put.bin -H 'content-type: application/grpc' \
//     -H 'te: trailers' http://127.0.0.1:23790/etcdserverpb.KV/Put
// put.bin is a gRPC-framed PutRequest (0x00, 4-byte big-endian length, the message); read
// the server's CPU time from /proc/<pid>/stat before and after.
import { create } from "@bufbuild/protobuf";
import { KV, PutRequestSchema, PutResponseSchema } from "@raftkv/proto/etcd";
import { ClientPort } from "./grpc/client-port.js";
import { GrpcCode, GrpcStatusError } from "./grpc/status.js";

const mode = process.argv[2] ?? "lean";
const port = Number(process.argv[3] ?? 23790);
const response = create(PutResponseSchema, { header: { revision: 1n } });
const server = new ClientPort({
  unaryRoutes:
    mode === "lean"
      ? new Map([
          [
            "/etcdserverpb.KV/Put",
            { input: PutRequestSchema, output: PutResponseSchema, handle: () => response },
          ],
        ])
      : new Map(),
  connectRoutes: (router) => router.service(KV, { put: () => response }),
  httpRoutes: new Map(),
  maxReceiveMessageBytes: 2 * 1024 * 1024,
  toStatus: (e) =>
    e instanceof GrpcStatusError ? e : new GrpcStatusError(GrpcCode.UNKNOWN, String(e)),
});
await server.listen("127.0.0.1", port);
process.stdout.write(`listening ${mode} ${port} pid ${process.pid}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
