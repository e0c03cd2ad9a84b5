// rocksdb-native has no WriteOptions.sync; make a write durable by fdatasync-ing the WAL file
// that RocksDB has already write()-n it to (currentWalFile), as RocksDB's own sync=true does.
const RocksDB = require("./inst-rocksdb-native/node_modules/rocksdb-native");
const fs = require("node:fs");
const fsp = fs.promises;
const dir = "/tmp/rocksdb-eval/db-native-sync";
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
  let walPath = null,
    walFh = null;
  async function syncWal() {
    // datasync the WAL we know and ask for the current one at the same time; only when it
    // rotated do we pay a second round (sync the new WAL and the directory).
    if (walFh === null) {
      const c = await db.currentWalFile();
      walPath = c.path;
      walFh = await fsp.open(require("node:path").join(dir, c.path), "r");
    }
    const [, cur] = await Promise.all([walFh.datasync(), db.currentWalFile()]);
    if (cur.path !== walPath) {
      await walFh.close();
      walPath = cur.path;
      walFh = await fsp.open(require("node:path").join(dir, cur.path), "r");
      await walFh.datasync();
      const d = await fsp.open(dir, "r");
      await d.sync();
      await d.close();
    }
  }
  const cur = await db.currentWalFile();
  console.log("currentWalFile:", cur);
  const secs = Number(process.argv[2] ?? 3);
  let i = 0;
  // group commit: writers enqueue; one loop drains the queue into a batch, writes, syncs.
  let queue = [],
    running = false;
  function save(k, v) {
    return new Promise((res, rej) => {
      queue.push({ k, v, res, rej });
      if (!running) drain();
    });
  }
  async function drain() {
    running = true;
    while (queue.length) {
      const b = queue;
      queue = [];
      const w = log.write();
      for (const o of b) w.tryPut(o.k, o.v);
      await w.flush();
      await syncWal();
      for (const o of b) o.res();
    }
    running = false;
  }
  for (const [name, run] of [
    [
      "single synced put",
      async () => {
        await save(key(i++), val);
        return 1;
      },
    ],
    [
      "synced batch of 100",
      async () => {
        const w = log.write();
        for (let j = 0; j < 100; j++) w.tryPut(key(i++), val);
        await w.flush();
        await syncWal();
        return 100;
      },
    ],
    [
      "16 concurrent writers, group commit",
      async () => {
        await Promise.all(Array.from({ length: 16 }, () => save(key(i++), val)));
        return 16;
      },
    ],
    [
      "128 concurrent writers, group commit",
      async () => {
        await Promise.all(Array.from({ length: 128 }, () => save(key(i++), val)));
        return 128;
      },
    ],
  ]) {
    let n = 0;
    const t0 = Date.now();
    while (Date.now() - t0 < secs * 1000) n += await run();
    const el = (Date.now() - t0) / 1000;
    console.log(
      `rocksdb-native+WAL fdatasync (parallel WAL check) ${name}: ${(n / el).toFixed(0)} entries/s`,
    );
  }
  await walFh.close();
  await db.close();
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
