import { connect } from "node:http2";
import { describe, expect, it } from "vitest";
import { InvalidTransportOptionError } from "./errors.js";
import { createPeerTransport } from "./peer-transport.js";

describe("PeerTransport.serveMethod", () => {
  it("hands a registered gRPC method's stream to the application's handler", async () => {
    const transport = createPeerTransport({ id: 1, clusterId: 7n, listen: ["http://127.0.0.1:0"] });
    transport.serveMethod("/test.Echo/Call", (stream) => {
      stream.respond(
        {
          ":status": 200,
          "content-type": "application/grpc",
          "grpc-status": "0",
          "x-served": "yes",
        },
        { endStream: true },
      );
    });
    await transport.start({ onMessages: () => {}, onSnapshot: async () => {} });
    const session = connect(transport.addresses()[0]!.origin);
    try {
      const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const req = session.request({
          ":method": "POST",
          ":path": "/test.Echo/Call",
          "content-type": "application/grpc",
        });
        req.on("response", resolve);
        req.on("error", reject);
        req.end();
      });
      expect(headers["x-served"]).toBe("yes");
    } finally {
      session.close();
      await transport.close();
    }
  });

  it("refuses to give away RaftService's own paths", () => {
    const transport = createPeerTransport({ id: 1, clusterId: 7n });
    expect(() => transport.serveMethod("/raftkv.raft.v1.RaftService/Stream", () => {})).toThrow(
      InvalidTransportOptionError,
    );
  });
});
