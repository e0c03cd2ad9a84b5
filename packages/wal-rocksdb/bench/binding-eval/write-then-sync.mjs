import fs from "node:fs";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(new URL("./inst-rocksdb-native/package.json", import.meta.url));
const RocksDB = require("rocksdb-native");
fs.rmSync("/tmp/rocksdb-eval/db-ds2", { recursive: true, force: true });
const db = new RocksDB("/tmp/rocksdb-eval/db-ds2");
await db.ready();
const cur = await db.currentWalFile();
const fh = await open(`/tmp/rocksdb-eval/db-ds2${cur.path}`, "r");
const fd = fs.openSync(`/tmp/rocksdb-eval/db-ds2${cur.path}`, "r");
const v = Buffer.alloc(280, 1);
const N = 1500;
const put = async (i) => {
  const w = db.write({ autoDestroy: true });
  const k = Buffer.alloc(9);
  k.writeUInt32BE(i, 5);
  w.tryPut(k, v);
  await w.flush();
};
const fdatasync = () => new Promise((res, rej) => fs.fdatasync(fd, (e) => (e ? rej(e) : res())));
for (let r = 0; r < 2; r++) {
  let t = performance.now();
  for (let i = 0; i < N; i++) {
    await put(i);
  }
  console.log("write only", (((performance.now() - t) / N) * 1000).toFixed(0), "us");
  t = performance.now();
  for (let i = 0; i < N; i++) {
    await put(i);
    await fh.datasync();
  }
  console.log(
    "write + FileHandle.datasync",
    (((performance.now() - t) / N) * 1000).toFixed(0),
    "us",
  );
  t = performance.now();
  for (let i = 0; i < N; i++) {
    await put(i);
    await fdatasync();
  }
  console.log("write + fs.fdatasync(cb)", (((performance.now() - t) / N) * 1000).toFixed(0), "us");
  t = performance.now();
  for (let i = 0; i < N; i++) {
    await put(i);
    await Promise.all([fh.datasync(), db.currentWalFile()]);
  }
  console.log(
    "write + datasync || currentWalFile",
    (((performance.now() - t) / N) * 1000).toFixed(0),
    "us",
  );
  const b = Buffer.alloc(256);
  const rfd = fs.openSync("/tmp/rocksdb-eval/raw-probe", "w");
  t = performance.now();
  for (let i = 0; i < N; i++) {
    fs.writeSync(rfd, b);
    fs.fdatasyncSync(rfd);
  }
  console.log("raw sync loop", (((performance.now() - t) / N) * 1000).toFixed(0), "us");
}
await fh.close();
await db.close();
