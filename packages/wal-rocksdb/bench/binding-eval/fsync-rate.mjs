// Raw durable-append rate: 256-byte write + fdatasync/fsync per iteration.
import fs from "node:fs";
import path from "node:path";

const dir = process.argv[2] ?? "/tmp/rocksdb-eval";
const seconds = Number(process.argv[3] ?? 3);
const buf = Buffer.alloc(256, 7);
for (const mode of ["fsync", "fdatasync"]) {
  const file = path.join(dir, `fsync-probe-${process.pid}`);
  const fd = fs.openSync(file, "w");
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(seconds * 1e9);
  while (process.hrtime.bigint() < end) {
    fs.writeSync(fd, buf);
    if (mode === "fsync") fs.fsyncSync(fd);
    else fs.fdatasyncSync(fd);
    n++;
  }
  const el = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  fs.rmSync(file);
  console.log(
    `${mode}: ${n} appends in ${el.toFixed(2)}s = ${(n / el).toFixed(0)}/s, ${((el / n) * 1e6).toFixed(0)} us each`,
  );
}
