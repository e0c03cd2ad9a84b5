#!/usr/bin/env node
// A/A control for the comparison: a "raftkv" entry point that runs etcd with the flags it
// is given, so `compare --raftkv-cli apps/bench/scripts/etcd-as-raftkv.mjs` measures etcd
// against itself. The ratios of such a run show the noise floor of the machine; they say
// nothing about raftkv. CPU of the member shows as 0 (it is etcd's, a child of this pid).
import { spawn } from "node:child_process";

const etcd = process.env.ETCD_BINARY ?? "/usr/bin/etcd";
const child = spawn(etcd, process.argv.slice(2), { stdio: "inherit" });
process.on("SIGTERM", () => child.kill("SIGTERM"));
process.on("SIGINT", () => child.kill("SIGINT"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
