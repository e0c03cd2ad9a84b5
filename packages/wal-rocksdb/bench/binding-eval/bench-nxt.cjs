const { RocksLevel } = require("./inst-_nxtedition_rocksdb/node_modules/@nxtedition/rocksdb");
const fs = require("node:fs");
const dir = "/tmp/rocksdb-eval/db-nxt";
fs.rmSync(dir, { recursive: true, force: true });
const key = (i) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(i));
  return b;
};
const val = Buffer.alloc(256, 1);
(async () => {
  const db = new RocksLevel(dir, {
    columns: { default: {}, raft_log: {}, raft_meta: {} },
    keyEncoding: "buffer",
    valueEncoding: "buffer",
  });
  await db.open();
  console.log("columns:", Object.keys(db.columns));
  const secs = Number(process.argv[2] ?? 3);
  let i = 0;
  // event-loop stall: measure max gap of a 1ms interval while writing
  let last = Date.now(),
    maxGap = 0;
  const iv = setInterval(() => {
    const n = Date.now();
    maxGap = Math.max(maxGap, n - last);
    last = n;
  }, 1);
  for (const [name, run] of [
    [
      "single synced put (db.put, sync ignored)",
      async () => {
        await db.put(key(i++), val, { sync: true });
        return 1;
      },
    ],
    [
      "single synced put via batch",
      async () => {
        const b = db.batch();
        b.put(key(i++), val);
        await b.write({ sync: true });
        return 1;
      },
    ],
    [
      "synced batch of 100",
      async () => {
        const b = db.batch();
        for (let j = 0; j < 100; j++) b.put(key(i++), val);
        await b.write({ sync: true });
        return 100;
      },
    ],
    [
      "16 concurrent synced puts",
      async () => {
        await Promise.all(
          Array.from({ length: 16 }, () =>
            (async () => {
              const b = db.batch();
              b.put(key(i++), val);
              await b.write({ sync: true });
            })(),
          ),
        );
        return 16;
      },
    ],
  ]) {
    let n = 0;
    const t0 = Date.now();
    maxGap = 0;
    while (Date.now() - t0 < secs * 1000) n += await run();
    const el = (Date.now() - t0) / 1000;
    console.log(
      `@nxtedition/rocksdb ${name}: ${(n / el).toFixed(0)} entries/s (writes run on the JS thread)`,
    );
  }
  clearInterval(iv);
  await db.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
