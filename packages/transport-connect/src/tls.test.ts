import { readFileSync, rmSync } from "node:fs";
import { connect } from "node:http2";
import { createTestCertificates, type TestCertificates } from "@raftkv/test-support";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TlsConfigError } from "./errors.js";
import type { PeerTransportOptions } from "./options.js";
import { createPeerTransport, type PeerTransport } from "./peer-transport.js";
import { heartbeat } from "./test-support/messages.js";
import { eventually, RecordingHandler } from "./test-support/recording-handler.js";

const CLUSTER = 9n;
let certs: TestCertificates;

beforeAll(() => {
  certs = createTestCertificates();
});
afterAll(() => {
  rmSync(certs.dir, { recursive: true, force: true });
});

const open: PeerTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function member(id: number, options: Partial<PeerTransportOptions>) {
  const transport = createPeerTransport({
    id,
    clusterId: CLUSTER,
    listen: ["https://127.0.0.1:0"],
    backoff: { initialDelayMs: 20, maxDelayMs: 100 },
    ...options,
  });
  open.push(transport);
  const handler = new RecordingHandler();
  await transport.start(handler);
  return { transport, handler, url: transport.addresses()[0]!.href };
}

const memberTls = () => ({
  certFile: certs.memberCert,
  keyFile: certs.memberKey,
  caFile: certs.caFile,
});

describe("TLS between peers", () => {
  it("carries messages over TLS", async () => {
    const a = await member(1, { tls: memberTls() });
    const b = await member(2, { tls: memberTls() });
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2, 4)]);
    await b.handler.until(() => b.handler.messages.length === 1, "a heartbeat over TLS");
    expect(b.url).toMatch(/^https:/);
  });

  it("carries messages over mutual TLS between members with certificates from the cluster CA", async () => {
    const a = await member(1, { tls: { ...memberTls(), clientCertAuth: true } });
    const b = await member(2, { tls: { ...memberTls(), clientCertAuth: true } });
    a.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [a.url]);
    b.transport.send([heartbeat(2, 1, 4)]);
    await a.handler.until(() => a.handler.messages.length === 1, "a heartbeat over mTLS");
  });

  it("refuses a peer whose certificate the cluster CA did not sign", async () => {
    const b = await member(2, { tls: { ...memberTls(), clientCertAuth: true } });
    const stranger = await member(1, {
      tls: { certFile: certs.strangerCert, keyFile: certs.strangerKey, caFile: certs.caFile },
    });
    stranger.transport.addPeer(2, [b.url]);
    b.transport.addPeer(1, [stranger.url]);
    stranger.transport.send([heartbeat(1, 2)]);
    await eventually(() => b.transport.stats().rejected.tls > 0, "the handshake to be refused");
    await eventually(() => {
      stranger.transport.send([heartbeat(1, 2)]);
      return stranger.transport.stats().peers.get(2)!.dropped.unreachable > 0;
    }, "the stranger to count its messages as undeliverable");
    expect(b.handler.messages).toHaveLength(0);
  });

  it("refuses a client that presents no certificate when mTLS is on", async () => {
    const b = await member(2, { tls: { ...memberTls(), clientCertAuth: true } });
    const session = connect(b.url, { ca: readFileSync(certs.caFile) });
    const failure = await new Promise<Error | undefined>((resolve) => {
      session.on("error", resolve);
      session.on("connect", () => {
        // TLS 1.3 reports a missing client certificate after the handshake, on first use.
        const req = session.request({ ":method": "POST", ":path": "/" });
        req.on("error", resolve);
        req.on("response", () => resolve(undefined));
        req.end();
      });
    });
    session.destroy();
    expect(failure).toBeInstanceOf(Error);
    await eventually(() => b.transport.stats().rejected.tls > 0, "the refusal to be counted");
  });

  it("does not send to a peer whose server certificate it cannot verify", async () => {
    const impostor = await member(2, {
      tls: { certFile: certs.strangerCert, keyFile: certs.strangerKey, caFile: certs.caFile },
    });
    const a = await member(1, { tls: memberTls() });
    a.transport.addPeer(2, [impostor.url]);
    impostor.transport.addPeer(1, [a.url]);
    a.transport.send([heartbeat(1, 2)]);
    await eventually(() => a.transport.stats().peers.get(2)!.dropped.unreachable > 0, "a drop");
    expect(impostor.handler.messages).toHaveLength(0);
  });

  it("names an unreadable certificate file in a TlsConfigError", () => {
    expect(() =>
      createPeerTransport({
        id: 1,
        clusterId: CLUSTER,
        tls: { certFile: "/nonexistent/member.pem", keyFile: certs.memberKey },
      }),
    ).toThrow(TlsConfigError);
  });
});
