import { describe, expect, it } from "vitest";
import {
  loadEtcdReferenceRoot,
  MissingReferenceProtoError,
  parseProtoSources,
  stripGoOnlyOptions,
} from "./reference-root.js";

describe("loading etcd's reference .proto files", () => {
  it("names the Debian package to install when the files are missing", () => {
    expect(() => loadEtcdReferenceRoot("/nonexistent/etcd")).toThrowError(
      MissingReferenceProtoError,
    );
    expect(() => loadEtcdReferenceRoot("/nonexistent/etcd")).toThrowError(/golang-etcd-server-dev/);
  });

  it("strips gogoproto and google.api.http, nested bindings included, and keeps everything else", () => {
    const source = `syntax = "proto3";
package p;
import "gogoproto/gogo.proto";
import "google/api/annotations.proto";
option (gogoproto.marshaler_all) = true;
service S {
  rpc Get(Req) returns (Res) {
      option (google.api.http) = {
        post: "/v3/get"
        body: "*"
        additional_bindings {
            post: "/v3/kv/get"
            body: "*"
        }
    };
  }
}
message Req { int64 ID = 1; }
message Res { bytes value = 2; }
`;
    const stripped = stripGoOnlyOptions(source);
    expect(stripped).not.toMatch(/gogoproto|google|additional_bindings/);
    const root = parseProtoSources([stripped]);
    expect(root.lookupService("p.S").methods.Get?.requestType).toBe("Req");
    expect(root.lookupType("p.Req").fields.ID?.id).toBe(1);
    expect(root.lookupType("p.Res").fields.value?.id).toBe(2);
  });
});
