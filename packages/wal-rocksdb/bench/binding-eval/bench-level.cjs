// Level's rocksdb 5.2.1: synced puts and batches.
const rocksdb = require("./inst-rocksdb/node_modules/rocksdb");
const fs = require("node:fs");
const dir = "/tmp/rocksdb-eval/db-level";
fs.rmSync(dir, { recursive: true, force: true });
const db = rocksdb(dir);
const p = (f) => new Promise((res, rej) => f((e, v) => (e ? rej(e) : res(v))));
const key = (i) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(i));
  return b;
};
const val = Buffer.alloc(256, 1);
(async () => {
  await p((cb) => db.open({}, cb));
  const secs = Number(process.argv[2] ?? 3);
  let i = 0;
  for (const [name, run] of [
    [
      "single synced put",
      async () => {
        await p((cb) => db.put(key(i++), val, { sync: true }, cb));
        return 1;
      },
    ],
    [
      "synced batch of 100",
      async () => {
        const ops = [];
        for (let j = 0; j < 100; j++) ops.push({ type: "put", key: key(i++), value: val });
        await p((cb) => db.batch(ops, { sync: true }, cb));
        return 100;
      },
    ],
    [
      "16 concurrent synced puts",
      async () => {
        await Promise.all(
          Array.from({ length: 16 }, () => p((cb) => db.put(key(i++), val, { sync: true }, cb))),
        );
        return 16;
      },
    ],
  ]) {
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < secs * 1000) n += await run();
    const el = (Date.now() - t0) / 1000;
    console.log(`level rocksdb ${name}: ${(n / el).toFixed(0)} entries/s`);
  }
  await p((cb) => db.close(cb));
})();
