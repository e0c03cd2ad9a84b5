import type { DescMessage, DescMethod, MessageInitShape } from "@bufbuild/protobuf";
import { create, equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { PackageDefinition, ServiceDefinition } from "@grpc/proto-loader";
import { fromJSON } from "@grpc/proto-loader";
import { beforeAll, describe, expect, it } from "vitest";
import {
  AlarmRequest_AlarmAction,
  AlarmType,
  Auth,
  Cluster,
  Compare_CompareResult,
  Compare_CompareTarget,
  type CompareSchema,
  Event_EventType,
  file_authpb_auth,
  file_etcdserverpb_rpc,
  file_mvccpb_kv,
  KV,
  Lease,
  Maintenance,
  Permission_Type,
  RangeRequest_SortOrder,
  RangeRequest_SortTarget,
  type ResponseOpSchema,
  Watch,
  WatchCreateRequest_FilterType,
} from "./etcd.js";
import type { ReferenceObject } from "./testdata/reference-compare.js";
import {
  collectSetFields,
  diffWithReference,
  reachableFields,
  toReferenceObject,
} from "./testdata/reference-compare.js";
import { loadEtcdReferenceRoot } from "./testdata/reference-root.js";
import { summarizeOurs, summarizeReference } from "./testdata/reference-schema.js";

// The independent side of every comparison: etcd's own .proto files from Debian, parsed
// by protobufjs and served through @grpc/proto-loader, the stack the etcd3 npm client
// uses. keepCase keeps etcd's field names; 64-bit integers come back as decimal strings.
let etcd: PackageDefinition;
let etcdRoot: ReturnType<typeof loadEtcdReferenceRoot>;
beforeAll(() => {
  etcdRoot = loadEtcdReferenceRoot();
  etcd = fromJSON(etcdRoot.toJSON(), {
    keepCase: true,
    longs: String,
    defaults: true,
    oneofs: true,
  });
});

const bytes = (text: string) => new TextEncoder().encode(text);
const binary = Uint8Array.of(0x00, 0xff, 0x80, 0x7f, 0x0a);
const maxUint64 = 2n ** 64n - 1n;
const maxInt64 = 2n ** 63n - 1n;

const header = {
  clusterId: maxUint64,
  memberId: 0x8e9e05c52164694dn,
  revision: 2n ** 40n + 3n,
  raftTerm: 9n,
};
const kv = (key: string, version: bigint) => ({
  key: bytes(key),
  createRevision: 5n,
  modRevision: 2n ** 33n,
  version,
  value: binary,
  lease: 0x694d77aa9e38260fn,
});
const rangeRequest = {
  key: bytes("a"),
  rangeEnd: Uint8Array.of(0),
  limit: 10n,
  revision: 42n,
  sortOrder: RangeRequest_SortOrder.DESCEND,
  sortTarget: RangeRequest_SortTarget.MOD,
  serializable: true,
  keysOnly: true,
  countOnly: true,
  minModRevision: 1n,
  maxModRevision: maxInt64,
  minCreateRevision: 2n,
  maxCreateRevision: 2n ** 50n,
};
const putRequest = {
  key: bytes("foo"),
  value: binary,
  lease: 7n,
  prevKv: true,
  ignoreValue: true,
  ignoreLease: true,
};
const deleteRangeRequest = { key: bytes("b"), rangeEnd: bytes("c"), prevKv: true };
const compares: MessageInitShape<typeof CompareSchema>[] = [
  {
    key: bytes("a"),
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.VERSION,
    targetUnion: { case: "version", value: 0n },
  },
  {
    result: Compare_CompareResult.GREATER,
    target: Compare_CompareTarget.CREATE,
    targetUnion: { case: "createRevision", value: 3n },
  },
  {
    result: Compare_CompareResult.LESS,
    target: Compare_CompareTarget.MOD,
    targetUnion: { case: "modRevision", value: maxInt64 },
  },
  {
    result: Compare_CompareResult.NOT_EQUAL,
    target: Compare_CompareTarget.VALUE,
    targetUnion: { case: "value", value: binary },
  },
  {
    result: Compare_CompareResult.EQUAL,
    target: Compare_CompareTarget.LEASE,
    targetUnion: { case: "lease", value: 0n },
    rangeEnd: bytes("z"),
  },
];
const responseOps: MessageInitShape<typeof ResponseOpSchema>[] = [
  {
    response: {
      case: "responseRange",
      value: { header, kvs: [kv("a", 1n)], more: true, count: 3n },
    },
  },
  { response: { case: "responsePut", value: { header, prevKv: kv("foo", 2n) } } },
  {
    response: {
      case: "responseDeleteRange",
      value: { header, deleted: 2n, prevKvs: [kv("b", 4n), kv("bb", 1n)] },
    },
  },
  {
    response: {
      case: "responseTxn",
      value: {
        header,
        succeeded: true,
        responses: [{ response: { case: "responsePut", value: { header } } }],
      },
    },
  },
];
const member = {
  ID: 0x3e0f5bd6ec9d2d4an,
  name: "infra1",
  peerURLs: ["http://10.0.0.1:2380", "http://[::1]:2380"],
  clientURLs: ["http://10.0.0.1:2379"],
  isLearner: true,
};

interface Fixture {
  name: string;
  method: DescMethod;
  side: "request" | "response";
  desc: DescMessage;
  message: object;
}

function request<I extends DescMessage>(
  method: DescMethod & { input: I },
  init: Parameters<typeof create<I>>[1],
  label = "",
) {
  return {
    name: `${method.parent.name}.${method.name} request${label}`,
    method,
    side: "request",
    desc: method.input,
    message: create(method.input, init),
  } satisfies Fixture;
}

function response<O extends DescMessage>(
  method: DescMethod & { output: O },
  init: Parameters<typeof create<O>>[1],
  label = "",
) {
  return {
    name: `${method.parent.name}.${method.name} response${label}`,
    method,
    side: "response",
    desc: method.output,
    message: create(method.output, init),
  } satisfies Fixture;
}

// Every field of every message these reach is set to a non-default value at least once
// (checked below): a default value is not on the wire, so it would prove nothing.
const fixtures: Fixture[] = [
  request(KV.method.put, putRequest),
  request(KV.method.range, rangeRequest),
  request(KV.method.txn, {
    compare: compares,
    success: [
      { request: { case: "requestRange", value: rangeRequest } },
      { request: { case: "requestPut", value: putRequest } },
      { request: { case: "requestDeleteRange", value: deleteRangeRequest } },
      {
        request: {
          case: "requestTxn",
          value: {
            compare: [{ key: bytes("n"), targetUnion: { case: "version", value: 0n } }],
            success: [
              {
                request: {
                  case: "requestPut",
                  value: { key: bytes("n"), value: bytes("1") },
                },
              },
            ],
            failure: [
              {
                request: {
                  case: "requestRange",
                  value: { key: bytes("n") },
                },
              },
            ],
          },
        },
      },
    ],
    failure: [
      {
        request: {
          case: "requestDeleteRange",
          value: { key: bytes("x") },
        },
      },
    ],
  }),
  request(
    Watch.method.watch,
    {
      requestUnion: {
        case: "createRequest",
        value: {
          key: bytes("k"),
          rangeEnd: bytes("l"),
          startRevision: 17n,
          progressNotify: true,
          filters: [WatchCreateRequest_FilterType.NOPUT, WatchCreateRequest_FilterType.NODELETE],
          prevKv: true,
          watchId: 7n,
          fragment: true,
        },
      },
    },
    " (create)",
  ),
  request(
    Watch.method.watch,
    { requestUnion: { case: "cancelRequest", value: { watchId: 7n } } },
    " (cancel)",
  ),
  request(
    Watch.method.watch,
    { requestUnion: { case: "progressRequest", value: {} } },
    " (progress)",
  ),
  request(Lease.method.leaseGrant, { TTL: 60n, ID: maxInt64 }),
  request(Lease.method.leaseTimeToLive, { ID: 5n, keys: true }),
  request(Cluster.method.memberAdd, { peerURLs: member.peerURLs, isLearner: true }),
  request(Maintenance.method.alarm, {
    action: AlarmRequest_AlarmAction.ACTIVATE,
    memberID: 4n,
    alarm: AlarmType.NOSPACE,
  }),
  request(Auth.method.roleGrantPermission, {
    name: "reader",
    perm: { permType: Permission_Type.READWRITE, key: bytes("/a"), rangeEnd: Uint8Array.of(0) },
  }),
  response(KV.method.range, { header, kvs: [kv("a", 1n), kv("ab", 12n)], more: true, count: 7n }),
  response(KV.method.put, { header, prevKv: kv("foo", 3n) }),
  response(KV.method.txn, { header, succeeded: true, responses: responseOps }),
  response(Watch.method.watch, {
    header,
    watchId: 3n,
    created: true,
    canceled: true,
    compactRevision: 11n,
    cancelReason: "mvcc: required revision has been compacted",
    fragment: true,
    events: [
      { type: Event_EventType.PUT, kv: kv("k", 2n), prevKv: kv("k", 1n) },
      { type: Event_EventType.DELETE, kv: { key: bytes("k"), modRevision: 99n } },
    ],
  }),
  response(Lease.method.leaseGrant, { header, ID: 1n, TTL: 60n, error: "none" }),
  response(Lease.method.leaseTimeToLive, {
    header,
    ID: 1n,
    TTL: -1n,
    grantedTTL: 60n,
    keys: [bytes("k1"), binary],
  }),
  response(Cluster.method.memberAdd, {
    header,
    member,
    members: [member, { ...member, isLearner: false }],
  }),
  response(Maintenance.method.status, {
    header,
    version: "3.4.23",
    dbSize: 2n ** 31n,
    leader: maxUint64,
    raftIndex: 1000n,
    raftTerm: 3n,
    raftAppliedIndex: 999n,
    errors: ["NOSPACE"],
    dbSizeInUse: 4096n,
    isLearner: true,
  }),
  response(Maintenance.method.alarm, {
    header,
    alarms: [{ memberID: 4n, alarm: AlarmType.CORRUPT }],
  }),
  response(Auth.method.roleGet, {
    header,
    perm: [{ permType: Permission_Type.WRITE, key: bytes("k"), rangeEnd: bytes("l") }],
  }),
];

function referenceMethod(method: DescMethod) {
  const service = etcd[method.parent.typeName] as ServiceDefinition | undefined;
  const definition = service?.[method.name];
  if (definition === undefined)
    throw new Error(`etcd defines no ${method.parent.typeName}/${method.name}`);
  return definition;
}

describe("etcd v3 API schema", () => {
  it("has every package, message, field number and type, enum value, service and method of etcd's own .proto files, and nothing else", () => {
    const ours = summarizeOurs([file_mvccpb_kv, file_authpb_auth, file_etcdserverpb_rpc]);
    const theirs = summarizeReference(etcdRoot, ["mvccpb", "authpb", "etcdserverpb"]);
    // Guards against two empty summaries agreeing.
    expect(Object.keys(theirs).length).toBeGreaterThan(300);
    expect(theirs["field etcdserverpb.Compare.range_end"]).toBe("64 bytes");
    expect(ours).toEqual(theirs);
  });

  it("serves every method at etcd's gRPC path with etcd's streaming shape", () => {
    const services = [KV, Watch, Lease, Cluster, Maintenance, Auth];
    expect(services.reduce((n, s) => n + s.methods.length, 0)).toBe(39);
    for (const service of services) {
      for (const method of service.methods) {
        const theirs = referenceMethod(method);
        expect(theirs.path).toBe(`/etcdserverpb.${service.name}/${method.name}`);
        expect(theirs.path).toBe(`/${service.typeName}/${method.name}`);
        expect([theirs.requestStream, theirs.responseStream]).toEqual([
          method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
          method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
        ]);
      }
    }
  });
});

describe("etcd v3 API wire compatibility", () => {
  it("fixtures set every field of every message they reach, so no field goes unchecked", () => {
    const reachable = new Set<string>();
    const set = new Set<string>();
    for (const f of fixtures) {
      reachableFields(f.desc, reachable);
      collectSetFields(f.desc, f.message, set);
    }
    expect([...reachable].filter((name) => !set.has(name))).toEqual([]);
  });

  it.each(fixtures)("$name encoded by us decodes field for field with etcd's .proto", (f) => {
    const definition = referenceMethod(f.method);
    const deserialize =
      f.side === "request" ? definition.requestDeserialize : definition.responseDeserialize;
    const wire = toBinary(f.desc, f.message as never);
    const decoded = deserialize(Buffer.from(wire)) as ReferenceObject;
    expect(diffWithReference(f.desc, f.message, decoded)).toEqual([]);
  });

  it.each(fixtures)(
    "$name encoded with etcd's .proto decodes field for field with ours, byte for byte the same",
    (f) => {
      const definition = referenceMethod(f.method);
      const serialize =
        f.side === "request" ? definition.requestSerialize : definition.responseSerialize;
      const wire = serialize(toReferenceObject(f.desc, f.message));
      const decoded = fromBinary(f.desc, wire);
      expect(equals(f.desc, decoded, f.message as never)).toBe(true);
      expect(Buffer.from(wire).toString("hex")).toBe(
        Buffer.from(toBinary(f.desc, f.message as never)).toString("hex"),
      );
    },
  );
});
