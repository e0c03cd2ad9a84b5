const RocksDB = require("./inst-rocksdb-native/node_modules/rocksdb-native");
const fs = require("node:fs");
const dir = "/tmp/rocksdb-eval/db-native";
fs.rmSync(dir, { recursive: true, force: true });
const key = (i) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(i));
  return b;
};
const val = Buffer.alloc(256, 1);
(async () => {
  const db = new RocksDB(dir, { columnFamilies: ["raft_log", "raft_meta"] });
  await db.ready();
  const log = db.columnFamily("raft_log");
  const secs = Number(process.argv[2] ?? 3);
  let i = 0;
  for (const [name, run] of [
    [
      "single put (no sync option exists)",
      async () => {
        const w = log.write();
        w.tryPut(key(i++), val);
        await w.flush();
        return 1;
      },
    ],
    [
      "batch of 100",
      async () => {
        const w = log.write();
        for (let j = 0; j < 100; j++) w.tryPut(key(i++), val);
        await w.flush();
        return 100;
      },
    ],
    [
      "16 concurrent single puts",
      async () => {
        await Promise.all(
          Array.from({ length: 16 }, async () => {
            const w = log.write();
            w.tryPut(key(i++), val);
            await w.flush();
          }),
        );
        return 16;
      },
    ],
  ]) {
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < secs * 1000) n += await run();
    const el = (Date.now() - t0) / 1000;
    console.log(`rocksdb-native ${name}: ${(n / el).toFixed(0)} entries/s`);
  }
  // features: deleteRange in a batch, snapshot isolation, bounded iterator
  const w = log.write();
  w.tryDeleteRange(key(0), key(10));
  await w.flush();
  const snap = log.snapshot();
  const w2 = log.write();
  w2.tryPut(key(20), Buffer.from("changed"));
  await w2.flush();
  console.log(
    "deleted:",
    await log.get(key(5)),
    "snapshot sees old:",
    (await snap.get(key(20))).length,
    "live sees:",
    String(await log.get(key(20))),
  );
  let c = 0;
  for await (const _ of log.iterator({ gte: key(10), lt: key(20) })) c++;
  console.log("bounded iterator count [10,20):", c);
  await snap.close();
  await db.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
