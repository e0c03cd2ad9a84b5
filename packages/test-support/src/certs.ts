import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TestCertificates {
  dir: string;
  caFile: string;
  /** Signed by the CA, valid for 127.0.0.1 and localhost, usable as server and client. */
  memberCert: string;
  memberKey: string;
  /** A self-signed certificate the CA never saw. */
  strangerCert: string;
  strangerKey: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

/** Creates a throwaway CA and certificates with the system's openssl. */
export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "raftkv-tls-"));
  writeFileSync(
    join(dir, "member.ext"),
    [
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "basicConstraints=CA:FALSE",
      "keyUsage=digitalSignature,keyEncipherment",
      "extendedKeyUsage=serverAuth,clientAuth",
    ].join("\n"),
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=raftkv test CA",
    ],
    dir,
  );
  openssl(
    ["req", ...ec, "-keyout", "member.key", "-out", "member.csr", "-subj", "/CN=member"],
    dir,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      "member.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "member.pem",
      "-days",
      "2",
      "-extfile",
      "member.ext",
    ],
    dir,
  );
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "stranger.key",
      "-out",
      "stranger.pem",
      "-days",
      "2",
      "-subj",
      "/CN=stranger",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    dir,
  );
  return {
    dir,
    caFile: join(dir, "ca.pem"),
    memberCert: join(dir, "member.pem"),
    memberKey: join(dir, "member.key"),
    strangerCert: join(dir, "stranger.pem"),
    strangerKey: join(dir, "stranger.key"),
  };
}
