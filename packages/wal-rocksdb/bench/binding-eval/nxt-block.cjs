const { RocksLevel } = require("./inst-_nxtedition_rocksdb/node_modules/@nxtedition/rocksdb");
const fs = require("node:fs");
const dir = "/tmp/rocksdb-eval/db-nxt2";
fs.rmSync(dir, { recursive: true, force: true });
(async () => {
  const db = new RocksLevel(dir, { keyEncoding: "buffer", valueEncoding: "buffer" });
  await db.open();
  const val = Buffer.alloc(256, 1);
  const N = 2000;
  let blocked = 0n;
  for (let i = 0; i < N; i++) {
    const b = db.batch();
    const k = Buffer.alloc(8);
    k.writeBigUInt64BE(BigInt(i));
    b.put(k, val);
    const t = process.hrtime.bigint();
    const p = b.write({ sync: true });
    blocked += process.hrtime.bigint() - t;
    await p;
  }
  console.log(
    `@nxtedition/rocksdb: batch.write({sync:true}) holds the JS thread ${(Number(blocked) / N / 1e3).toFixed(0)} us per call`,
  );
  await db.close();
})();
