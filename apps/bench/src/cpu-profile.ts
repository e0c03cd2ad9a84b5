import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { InvalidOptionError } from "./errors.js";

/** One function's share of a CPU profile. */
export interface ProfileEntry {
  /** "name file:line", or V8's pseudo-frames: "(idle)", "(garbage collector)", "(program)". */
  frame: string;
  selfMs: number;
  /** Of all sampled time, idle included. */
  selfPercent: number;
  /** Of the time the process was not idle: what a limit is made of. 0 for "(idle)". */
  busyPercent: number;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/**
 * Where self time is charged: each function ("name file:line"), or each package — the
 * npm package or workspace package a function's file belongs to, Node's own module for
 * Node internals ("node:http2"), "(native)" for builtins without a script.
 */
export type ProfileGrouping = "function" | "package";

/** The package a script URL belongs to, by the rules of ProfileGrouping. */
export function packageOf(url: string): string {
  if (url === "") return "(native)";
  if (url.startsWith("node:")) {
    const module = url.slice("node:".length).replace(/^internal\//, "");
    return `node:${module.split("/")[0]}`;
  }
  const path = url.replace(/^file:\/\//, "");
  const modules = path.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = path.slice(modules + "/node_modules/".length).split("/");
    return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  const workspace = /\/(packages|apps)\/([^/]+)\//.exec(path);
  if (workspace)
    return workspace[1] === "packages" ? `@raftkv/${workspace[2]}` : `apps/${workspace[2]}`;
  return basename(path);
}

/**
 * The functions (or packages) with the most self time in a V8 `.cpuprofile` (what
 * `node --cpu-prof` writes), biggest first: where a server spent its CPU, to say what
 * limits it. V8's pseudo-frames ("(idle)", "(garbage collector)", "(program)") stay as
 * they are in both groupings. Throws InvalidOptionError when the file is not a profile.
 */
export function summarizeCpuProfile(
  path: string,
  top = 25,
  grouping: ProfileGrouping = "function",
): ProfileEntry[] {
  let profile: { nodes?: ProfileNode[]; samples?: number[]; timeDeltas?: number[] };
  try {
    profile = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new InvalidOptionError(`cannot read CPU profile ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const { nodes, samples, timeDeltas } = profile;
  if (!Array.isArray(nodes) || !Array.isArray(samples) || !Array.isArray(timeDeltas)) {
    throw new InvalidOptionError(`${path} is not a V8 CPU profile (nodes, samples, timeDeltas)`);
  }
  const frameOf = new Map<number, string>();
  for (const node of nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const pseudo = functionName.startsWith("(") && url === "";
    if (grouping === "package" && !pseudo) {
      frameOf.set(node.id, packageOf(url));
    } else {
      const file = url ? ` ${basename(url)}:${lineNumber + 1}` : "";
      frameOf.set(node.id, `${functionName || "(anonymous)"}${file}`);
    }
  }
  // timeDeltas[i] is the time before sample i; it is charged to the node sampled then.
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  samples.forEach((id, i) => {
    const frame = frameOf.get(id) ?? "(unknown)";
    const delta = Math.max(0, timeDeltas[i] ?? 0);
    selfUs.set(frame, (selfUs.get(frame) ?? 0) + delta);
    totalUs += delta;
  });
  const busyUs = totalUs - (selfUs.get("(idle)") ?? 0);
  return [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({
      frame,
      selfMs: us / 1000,
      selfPercent: totalUs > 0 ? (100 * us) / totalUs : 0,
      busyPercent: frame === "(idle)" || busyUs <= 0 ? 0 : (100 * us) / busyUs,
    }));
}
