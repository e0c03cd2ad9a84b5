// Child process of process.test.ts: opens a data dir, says so, and keeps it open until killed.
//   node hold-open.mjs <dir>
import { openRocksStorage } from "../../dist/index.js";

await openRocksStorage({ dir: process.argv[2], clusterId: "crash-test", memberId: 1 });
process.stdout.write("ready\n");
setInterval(() => {}, 1000);
