import { existsSync, readFileSync, writeFileSync } from "node:fs";
import type { ComparisonReport, ScenarioResult, ServerRun } from "./comparison.js";
import type { ProfileEntry } from "./cpu-profile.js";
import type { LoadResult } from "./load-result.js";

export const SECTION_BEGIN = "<!-- raftkv-bench:cluster:begin -->";
export const SECTION_END = "<!-- raftkv-bench:cluster:end -->";
const SECTION_TITLE = "## Cluster: raftkv vs etcd (raftkv-bench)";

const int = (n: number): string => Math.round(n).toLocaleString("en-US");
const ms = (n: number): string => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const ratio = (n: number | null): string =>
  n === null || !Number.isFinite(n) ? "—" : `${n.toFixed(2)}×`;

/** A member's CPU profile summary, for the report. */
export interface ServerProfile {
  server: string;
  member: string;
  isLeader: boolean;
  byPackage: ProfileEntry[];
  byFunction: ProfileEntry[];
}

/**
 * A markdown table with every column padded to its widest cell, as Biome formats tables,
 * so the generated section is stable under `biome format`. `align` is "l" or "r" per
 * column.
 */
export function markdownTable(header: string[], align: ("l" | "r")[], rows: string[][]): string[] {
  const width = (text: string): number => [...text].length;
  const widths = header.map((h, i) => Math.max(3, width(h), ...rows.map((r) => width(r[i] ?? ""))));
  const pad = (text: string, i: number): string => {
    const fill = " ".repeat((widths[i] as number) - width(text));
    return align[i] === "r" ? fill + text : text + fill;
  };
  const line = (cells: string[]): string => `| ${cells.map(pad).join(" | ")} |`;
  const rule = widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w)));
  return [line(header), `| ${rule.join(" | ")} |`, ...rows.map(line)];
}

/** Every put run's verification failed to explain the counts, by server and scenario. */
export function countMismatches(report: ComparisonReport): string[] {
  const out: string[] = [];
  for (const run of report.servers) {
    if (run.fill && !run.fill.verification.consistent) {
      out.push(`${run.server} fill: ${run.fill.verification.summary}`);
    }
    for (const s of run.scenarios) {
      if (s.verification && !s.verification.consistent) {
        out.push(`${run.server} ${s.scenario.label}: ${s.verification.summary}`);
      }
    }
  }
  return out;
}

/**
 * Renders the comparison as the markdown body of the "Cluster" section: settings, the
 * ops/s and latency table with raftkv/etcd ratios, the target check, count verification,
 * CPU accounting per run, etcd's per-request CPU anchors, the generator ceiling and the
 * h2load cross-check. `command` is the command line that produced it.
 */
export function renderComparison(
  report: ComparisonReport,
  command: string,
  profiles: readonly ServerProfile[] = [],
): string {
  const etcd = report.servers.find((s) => s.server === "etcd") ?? null;
  const raftkv = report.servers.find((s) => s.server === "raftkv") ?? null;
  const lines: string[] = [];
  const minutes = (report.finishedAt.getTime() - report.startedAt.getTime()) / 60_000;
  lines.push(
    `Measured ${report.startedAt.toISOString().replace("T", " ").slice(0, 16)} UTC with \`${command}\`` +
      ` (${report.quick ? "quick smoke run, not for comparison" : "full run"}, ${minutes.toFixed(1)} min)` +
      ` on ${report.machine.cpus} × ${report.machine.model}; load average at start` +
      ` ${report.machine.loadAverageAtStart.map((l) => l.toFixed(2)).join(", ")}` +
      " (other work shares this machine; the CPU table shows how much).",
    "",
    `Each server runs as a fresh 3-member cluster on 127.0.0.1 (data dirs on the local disk,` +
      " fsync on, heartbeat 100 ms, election 1000 ms)" +
      (report.order === "paired"
        ? "; both clusters stay up and the rounds of each scenario alternate between the servers (A B, B A, …), so both see the same stretch of the machine's other load (the idle cluster's CPU counts as other)."
        : ", one server after the other.") +
      ` Workload: 8-byte keys drawn uniformly from ${int(report.keySpace)} (every key is written once` +
      ` first, verified), ${report.valueBytes}-byte values; a closed loop (each in-flight slot sends` +
      ` its next call when the previous one completes) from ${report.workers} generator` +
      ` process${report.workers === 1 ? "" : "es"}, every call to the leader,` +
      ` over min(concurrency, 16) HTTP/2 connections. Each scenario is measured for` +
      ` ${report.durationMs / 1000} s per server in ${report.rounds} round${report.rounds === 1 ? "" : "s"}` +
      ` of ${report.durationMs / report.rounds / 1000} s, each after ${report.warmupMs / 1000} s of` +
      " unmeasured load; the rounds are merged. Latency is per call, in ms, from fixed log-linear" +
      " histograms (≤ 0.8% bucket error).",
    "",
  );
  for (const run of report.servers) {
    const status = run.skipped
      ? `skipped: ${run.skipped}`
      : run.error
        ? `stopped early: ${run.error}`
        : "ran";
    lines.push(`- **${run.server}** (${run.version}): ${status}`);
  }
  lines.push("");

  const labels = (etcd ?? raftkv)?.scenarios.map((s) => s.scenario.label) ?? [];
  const allLabels = [
    ...new Set([...labels, ...(raftkv?.scenarios.map((s) => s.scenario.label) ?? [])]),
  ];
  const rows: string[][] = [];
  for (const label of allLabels) {
    const e = find(etcd, label);
    const r = find(raftkv, label);
    const cells = (s: ScenarioResult | null): string[] =>
      s
        ? [
            int(s.load.opsPerSecond) + flag(s),
            ms(s.load.latencyMs.p50),
            ms(s.load.latencyMs.p90),
            ms(s.load.latencyMs.p99),
          ]
        : ["—", "—", "—", "—"];
    const opsRatio = e && r ? r.load.opsPerSecond / e.load.opsPerSecond : null;
    const p99Ratio = e && r ? r.load.latencyMs.p99 / e.load.latencyMs.p99 : null;
    rows.push([label, ...cells(e), ...cells(r), ratio(opsRatio), ratio(p99Ratio)]);
  }
  lines.push(
    ...markdownTable(
      [
        "scenario",
        "etcd ops/s",
        "etcd p50",
        "etcd p90",
        "etcd p99",
        "raftkv ops/s",
        "raftkv p50",
        "raftkv p90",
        "raftkv p99",
        "ops/s raftkv÷etcd",
        "p99 raftkv÷etcd",
      ],
      ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"],
      rows,
    ),
  );
  lines.push("");
  lines.push(targetLine(etcd, raftkv), "");
  const limit = limitLine(etcd, raftkv);
  if (limit) lines.push(limit, "");

  const mismatches = countMismatches(report);
  lines.push("Count verification (revision delta after each put run vs. successful puts):", "");
  for (const run of report.servers) {
    if (run.fill) lines.push(`- ${run.server} fill: ${run.fill.verification.summary}`);
    for (const s of run.scenarios) {
      if (s.verification)
        lines.push(`- ${run.server} ${s.scenario.label}: ${s.verification.summary}`);
      if (s.load.aborted)
        lines.push(`- ${run.server} ${s.scenario.label}: stopped early: ${s.load.aborted}`);
      if (s.load.failed > 0) {
        lines.push(
          `- ${run.server} ${s.scenario.label}: ${s.load.failed} failed calls ${JSON.stringify(s.load.errors)}; first: ${s.load.firstError}`,
        );
      }
    }
  }
  if (mismatches.length > 0)
    lines.push(
      "",
      `**COUNT MISMATCH in ${mismatches.length} run(s): these numbers are not trustworthy.**`,
    );
  lines.push("");

  lines.push(
    "CPU during each measured window: µs of CPU per successful call (servers: all three members;",
    "leader: the member every call went to; generator: all load processes); the share of the",
    "machine's capacity (window × cores) taken by the servers, the generator and everything else;",
    "and the ops/s of each round, whose spread shows how steady the machine was.",
    "",
  );
  lines.push(
    ...markdownTable(
      [
        "server",
        "scenario",
        "servers µs/call",
        "leader µs/call",
        "generator µs/call",
        "servers %",
        "generator %",
        "other %",
        "ops/s by round",
      ],
      ["l", "l", "r", "r", "r", "r", "r", "r", "r"],
      report.servers.flatMap((run) =>
        run.scenarios.map((s) => cpuRow(run.server, s.scenario.label, s)),
      ),
    ),
  );
  lines.push("");

  const anchor = (label: string): string => {
    const s = find(etcd, label);
    if (!s || s.serverCpuMs === null || s.load.measured === 0) return "not measured";
    const perCall = (s.serverCpuMs * 1000) / s.load.measured;
    const leader =
      s.leaderCpuMs === null ? "?" : ((s.leaderCpuMs * 1000) / s.load.measured).toFixed(0);
    return `${perCall.toFixed(0)} µs (leader ${leader} µs)`;
  };
  const rangeC = labels.find((l) => l.startsWith("range (linearizable)"))?.split("c=")[1] ?? "128";
  lines.push(
    `Anchor numbers, etcd 3.4 server CPU per request at concurrency 128 (all members; leader in brackets): put ${anchor("put c=128")}; linearizable range ${anchor(`range (linearizable) c=${rangeC}`)}; serializable range ${anchor(`range (serializable) c=${rangeC}`)}.`,
    "",
  );

  if (report.ceiling) {
    const c = report.ceiling;
    lines.push(
      `Generator ceiling: against a canned in-process gRPC server (answers every call with a fixed PutResponse at ${c.serverCpuUsPerCall.toFixed(1)} µs of CPU per call), put c=${c.load.concurrency} with ${c.load.workers} process${c.load.workers === 1 ? "" : "es"} reached ${int(c.load.opsPerSecond)} calls/s (p99 ${ms(c.load.latencyMs.p99)} ms) at ${c.generatorCpuUsPerCall.toFixed(1)} µs of generator CPU per call, i.e. about ${int(c.callsPerCoreSecond)} calls/s per core${c.h2load ? `; h2load on the same server: ${int(c.h2load.requestsPerSecond)} req/s` : ""}.` +
        " The generator's CPU per call is higher at cluster rates (fewer responses per socket read), which the table above shows.",
      "",
    );
  }
  const h2 = report.servers.filter((s) => s.h2load);
  if (h2.length > 0) {
    lines.push(
      `h2load cross-check (serializable range of one fixed key, 16 connections × 8 streams = c=128, ${Math.max(1, Math.min(5, Math.round(report.durationMs / 1000)))} s): ` +
        h2
          .map((s) => {
            const gen = s.scenarios.find((x) => x.scenario.operation === "range-serializable");
            return `${s.server} ${int(s.h2load?.requestsPerSecond ?? 0)} req/s (generator, random keys: ${gen ? int(gen.load.opsPerSecond) : "—"} ops/s)`;
          })
          .join("; ") +
        ".",
      "",
    );
  }
  if (profiles.length > 0) {
    lines.push(
      `The ${[...new Set(profiles.map((p) => p.server))].join(" and ")} members ran under \`node --cpu-prof\` for this run; the sampling profiler costs them a few percent.`,
      "",
    );
  }
  for (const profile of profiles) {
    const table = (entries: ProfileEntry[], what: string): string[] =>
      markdownTable(
        [what, "self ms", "share of busy time"],
        ["l", "r", "r"],
        entries
          .filter((e) => e.frame !== "(idle)")
          .map((e) => [
            `\`${e.frame.replaceAll("`", "'").replaceAll("|", "\\|")}\``,
            int(e.selfMs),
            `${e.busyPercent.toFixed(1)}%`,
          ]),
      );
    const idle = profile.byPackage.find((e) => e.frame === "(idle)");
    lines.push(
      `Where the ${profile.server} ${profile.isLeader ? "leader" : "follower"} (${profile.member}) spent its CPU over the whole run (fill, both servers' rounds; idle ${idle ? `${idle.selfPercent.toFixed(0)}%` : "unknown"} of the time), by package and by function (\`node --cpu-prof\` self time; "(program)" is native work V8 cannot attribute, such as libuv and addons):`,
      "",
      ...table(profile.byPackage, "package"),
      "",
      ...table(profile.byFunction, "function"),
      "",
    );
  }
  return lines.join("\n");
}

function find(run: ServerRun | null, label: string): ScenarioResult | null {
  return run?.scenarios.find((s) => s.scenario.label === label) ?? null;
}

function flag(s: ScenarioResult): string {
  if (s.verification && !s.verification.consistent) return " ⚠ count mismatch";
  if (s.load.aborted) return " (stopped early)";
  if (s.load.failed > 0) return ` (${s.load.failed} failed)`;
  return "";
}

function targetLine(etcd: ServerRun | null, raftkv: ServerRun | null): string {
  const e = find(etcd, "put c=128");
  const r = find(raftkv, "put c=128");
  const prefix = "Target (put at concurrency 128: raftkv ops/s ≥ etcd's and p99 ≤ etcd's):";
  if (!e) return `${prefix} not measured (no etcd result).`;
  if (!r)
    return `${prefix} not measured (${raftkv?.skipped ?? raftkv?.error ?? "raftkv not run"}).`;
  const met =
    r.load.opsPerSecond >= e.load.opsPerSecond && r.load.latencyMs.p99 <= e.load.latencyMs.p99;
  return `${prefix} **${met ? "met" : "not met"}** (${ratio(r.load.opsPerSecond / e.load.opsPerSecond)} ops/s, ${ratio(r.load.latencyMs.p99 / e.load.latencyMs.p99)} p99).`;
}

/**
 * Says what bounds raftkv's put throughput at concurrency 128, from the CPU accounting:
 * on a saturated machine throughput follows CPU per put, so the CPU ratio predicts the
 * throughput ratio; with idle CPU left, waiting (disk, network round trips, batching) does.
 */
function limitLine(etcd: ServerRun | null, raftkv: ServerRun | null): string | null {
  const e = find(etcd, "put c=128");
  const r = find(raftkv, "put c=128");
  if (!e || !r || e.serverCpuMs === null || r.serverCpuMs === null) return null;
  if (e.load.measured === 0 || r.load.measured === 0 || !r.load.machineCpu) return null;
  const perPut = (s: ScenarioResult, cpuMs: number | null): number =>
    cpuMs === null ? Number.NaN : (cpuMs * 1000) / s.load.measured;
  const eAll = perPut(e, e.serverCpuMs);
  const rAll = perPut(r, r.serverCpuMs);
  const cpuRatio = rAll / eAll;
  const busy = (100 * r.load.machineCpu.busyMs) / r.load.machineCpu.totalMs;
  const opsRatio = r.load.opsPerSecond / e.load.opsPerSecond;
  const cpu =
    `raftkv's members used ${rAll.toFixed(0)} µs of CPU per put against etcd's ${eAll.toFixed(0)} µs` +
    ` (${cpuRatio.toFixed(2)}×; leader ${perPut(r, r.leaderCpuMs).toFixed(0)} vs ${perPut(e, e.leaderCpuMs).toFixed(0)} µs)`;
  return busy >= 90
    ? `What limits raftkv at put c=128: CPU. The machine was ${busy.toFixed(0)}% busy during its rounds, so throughput follows CPU per put: ${cpu}, which predicts ${(1 / cpuRatio).toFixed(2)}× etcd's throughput; it reached ${opsRatio.toFixed(2)}×.`
    : `What limits raftkv at put c=128: not CPU alone. The machine was ${busy.toFixed(0)}% busy during its rounds, so waiting (fsync, replication round trips, batching) bounds it; ${cpu}; it reached ${opsRatio.toFixed(2)}× etcd's throughput.`;
}

function cpuRow(server: string, label: string, s: ScenarioResult): string[] {
  const load: LoadResult = s.load;
  const perCall = (cpuMs: number | null): string =>
    cpuMs === null || load.measured === 0 ? "—" : ((cpuMs * 1000) / load.measured).toFixed(0);
  const capacity = load.machineCpu?.totalMs ?? 0;
  const share = (cpuMs: number | null): string =>
    cpuMs === null || capacity <= 0 ? "—" : `${((100 * cpuMs) / capacity).toFixed(0)}%`;
  const other =
    load.machineCpu && s.serverCpuMs !== null
      ? Math.max(0, load.machineCpu.busyMs - s.serverCpuMs - load.generatorCpuMs)
      : null;
  return [
    server,
    label,
    perCall(s.serverCpuMs),
    perCall(s.leaderCpuMs),
    perCall(load.generatorCpuMs),
    share(s.serverCpuMs),
    share(load.generatorCpuMs),
    share(other),
    s.roundOpsPerSecond.map(int).join(" / "),
  ];
}

/**
 * Writes `body` into docs/benchmarks.md between the section markers, replacing what a
 * previous run wrote there, or appends the section with its title when the markers are
 * missing. Other sections of the file are left as they are.
 */
export function writeSection(path: string, body: string): void {
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const block = `${SECTION_BEGIN}\n${body.trimEnd()}\n${SECTION_END}`;
  const begin = current.indexOf(SECTION_BEGIN);
  const end = current.indexOf(SECTION_END);
  const next =
    begin >= 0 && end > begin
      ? current.slice(0, begin) + block + current.slice(end + SECTION_END.length)
      : `${current.trimEnd()}\n\n${SECTION_TITLE}\n\n${block}\n`;
  writeFileSync(path, next);
}
