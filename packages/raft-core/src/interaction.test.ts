/**
 * Interaction tests in the style of etcd-io/raft's testdata: each file in src/testdata is
 * a script of commands, each followed by `----` and the output it must produce. Run with
 * UPDATE_TESTDATA=1 to rewrite the expected outputs after a deliberate change, then
 * review the diff like any other.
 *
 * Commands (ids are member ids; `all` ticks everyone):
 *   cluster 1,2,3 [pre-vote=false] [check-quorum=false] [election-tick=N] [max-size-per-msg=N]
 *   campaign ID | propose ID TEXT | read-index ID CONTEXT | transfer-leadership FROM TO
 *   add-voter ID NEW | remove-voter ID OLD | join NEW
 *   tick ID|all [N] | stabilize | isolate ID | cut A B | heal | crash ID | restart ID
 *   compact ID | status ID | log ID | applied ID
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { RaftError } from "./errors.js";
import type { Ready } from "./ready.js";
import { SyncCluster, type SyncClusterNode } from "./testing/sync-cluster.js";
import { ConfChangeType, type Entry, EntryType, type Message, MessageType } from "./types.js";

const dir = fileURLToPath(new URL("./testdata/", import.meta.url));
const update = process.env.UPDATE_TESTDATA === "1";
const dec = new TextDecoder();
const enc = new TextEncoder();

const typeName: Record<number, string> = {
  [MessageType.Append]: "Append",
  [MessageType.AppendResponse]: "AppendResponse",
  [MessageType.Vote]: "Vote",
  [MessageType.VoteResponse]: "VoteResponse",
  [MessageType.PreVote]: "PreVote",
  [MessageType.PreVoteResponse]: "PreVoteResponse",
  [MessageType.Heartbeat]: "Heartbeat",
  [MessageType.HeartbeatResponse]: "HeartbeatResponse",
  [MessageType.Snapshot]: "Snapshot",
  [MessageType.ReadIndex]: "ReadIndex",
  [MessageType.ReadIndexResponse]: "ReadIndexResponse",
  [MessageType.TimeoutNow]: "TimeoutNow",
  [MessageType.TransferLeader]: "TransferLeader",
};

function entryText(e: Entry): string {
  if (e.type !== EntryType.Normal) return `${e.index}/${e.term} conf-change`;
  return `${e.index}/${e.term}${e.data.byteLength === 0 ? "" : ` "${dec.decode(e.data)}"`}`;
}

function messageText(m: Message): string {
  const parts = [`${m.from}->${m.to} ${typeName[m.type] ?? m.type} term=${m.term}`];
  switch (m.type) {
    case MessageType.Append:
      parts.push(`prev=${m.index}/${m.logTerm} commit=${m.commit}`);
      if (m.entries.length > 0) parts.push(`[${m.entries.map(entryText).join(", ")}]`);
      break;
    case MessageType.AppendResponse:
      parts.push(
        m.reject
          ? `rejected index=${m.index} hint=${m.rejectHint}/${m.logTerm}`
          : `index=${m.index}`,
      );
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      parts.push(`last=${m.index}/${m.logTerm}`);
      break;
    case MessageType.VoteResponse:
    case MessageType.PreVoteResponse:
      parts.push(m.reject ? "rejected" : "granted");
      break;
    case MessageType.Heartbeat:
      parts.push(`commit=${m.commit}`);
      if (m.context !== undefined) parts.push("(read round)");
      break;
    case MessageType.HeartbeatResponse:
      if (m.context !== undefined) parts.push("(read round)");
      break;
    case MessageType.Snapshot:
      parts.push(`snapshot=${m.snapshot?.index}/${m.snapshot?.term}`);
      break;
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResponse:
      parts.push(
        `index=${m.index} context="${dec.decode(m.entries[0]?.data ?? new Uint8Array())}"`,
      );
      break;
    default:
      break;
  }
  return parts.join(" ");
}

class Interaction {
  private cluster: SyncCluster | undefined;
  private out: string[] = [];

  private c(): SyncCluster {
    if (this.cluster === undefined) throw new Error("no cluster: start with `cluster 1,2,3`");
    return this.cluster;
  }

  private node(id: string | undefined): SyncClusterNode {
    return this.c().node(Number(id));
  }

  run(line: string): string {
    this.out = [];
    const [cmd, ...args] = line.trim().split(/\s+/);
    try {
      this.exec(cmd!, args);
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      this.out.push(`error ${e.code}: ${e.message}`);
    }
    return this.out.length === 0 ? "ok" : this.out.join("\n");
  }

  private exec(cmd: string, args: string[]): void {
    switch (cmd) {
      case "cluster": {
        const ids = args[0]!.split(",").map(Number);
        const opts = Object.fromEntries(args.slice(1).map((a) => a.split("=") as [string, string]));
        this.cluster = new SyncCluster({
          ids,
          node: {
            preVote: opts["pre-vote"] !== "false",
            checkQuorum: opts["check-quorum"] !== "false",
            electionTick: opts["election-tick"] === undefined ? 10 : Number(opts["election-tick"]),
            maxSizePerMsg:
              opts["max-size-per-msg"] === undefined ? undefined : Number(opts["max-size-per-msg"]),
          },
          filter: (m) => {
            this.out.push(messageText(m));
            return true;
          },
          onDropped: (m) => this.out.push(`${messageText(m)} (lost)`),
          onReady: (n, rd) => this.describeReady(n, rd),
        });
        return;
      }
      case "campaign":
        this.node(args[0]).raw.campaign();
        return;
      case "propose": {
        const pos = this.node(args[0]).raw.propose(enc.encode(args.slice(1).join(" ")));
        this.out.push(`proposed at ${pos.index}/${pos.term}`);
        return;
      }
      case "read-index":
        this.node(args[0]).raw.readIndex(enc.encode(args[1] ?? ""));
        return;
      case "transfer-leadership":
        this.node(args[0]).raw.transferLeadership(Number(args[1]));
        return;
      case "add-voter":
      case "remove-voter": {
        const type = cmd === "add-voter" ? ConfChangeType.AddNode : ConfChangeType.RemoveNode;
        const pos = this.node(args[0]).raw.proposeConfChange({
          type,
          nodeId: Number(args[1]),
          context: new Uint8Array(),
          id: 0,
        });
        this.out.push(`proposed at ${pos.index}/${pos.term}`);
        return;
      }
      case "join":
        this.c().join(Number(args[0]));
        return;
      case "tick": {
        const n = args[1] === undefined ? 1 : Number(args[1]);
        this.c().tick(args[0] === "all" ? undefined : Number(args[0]), n);
        return;
      }
      case "stabilize":
        this.c().stabilize();
        return;
      case "isolate":
        this.c().isolate(Number(args[0]));
        return;
      case "cut":
        this.c().cut(Number(args[0]), Number(args[1]));
        return;
      case "heal":
        this.c().heal();
        return;
      case "crash":
        this.c().crash(Number(args[0]));
        return;
      case "restart":
        this.c().restart(Number(args[0]));
        return;
      case "compact":
        this.c().compact(Number(args[0]));
        this.out.push(`log starts at ${this.node(args[0]).raw.log().firstIndex()}`);
        return;
      case "status": {
        const st = this.node(args[0]).raw.status();
        this.out.push(
          `${st.id}: ${st.role} term=${st.term} vote=${st.vote} lead=${st.lead} commit=${st.commit} applied=${st.applied} last=${st.lastIndex}`,
        );
        if (st.progress !== undefined) {
          for (const [id, p] of [...st.progress].sort((a, b) => a[0] - b[0])) {
            this.out.push(
              `  ${id}: ${p.state} match=${p.match} next=${p.next}${p.paused ? " paused" : ""}`,
            );
          }
        }
        return;
      }
      case "log": {
        const log = this.node(args[0]).raw.log();
        const ents = log.entries(log.firstIndex(), log.lastIndex() + 1);
        this.out.push(ents.length === 0 ? "(empty)" : ents.map(entryText).join("\n"));
        return;
      }
      case "applied":
        this.out.push(this.node(args[0]).applied.map(entryText).join("\n") || "(none)");
        return;
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  }

  private describeReady(n: SyncClusterNode, rd: Ready): void {
    if (rd.softState !== undefined) {
      const { role, leader } = rd.softState;
      this.out.push(
        `> ${n.id} is ${role}${leader === 0 ? "" : ` (leader ${leader})`} in term ${n.raw.term}`,
      );
    }
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.Normal && e.data.byteLength === 0) continue;
      this.out.push(`> ${n.id} applies ${entryText(e)}`);
    }
    for (const r of rd.readStates) {
      this.out.push(`> ${n.id} may read "${dec.decode(r.context)}" at index ${r.index}`);
    }
  }
}

/** Splits a script into (command, expected output) pairs, keeping comments for rewriting. */
function parse(text: string): Array<{ comment: string[]; command: string; expected: string }> {
  const lines = text.split("\n");
  const cases: Array<{ comment: string[]; command: string; expected: string }> = [];
  let comment: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith("#") || line.trim() === "") {
      if (line.startsWith("#")) comment.push(line);
      continue;
    }
    if (lines[i + 1] !== "----") throw new Error(`line ${i + 2}: expected ---- after "${line}"`);
    const expected: string[] = [];
    i += 2;
    while (i < lines.length && lines[i] !== "") expected.push(lines[i++]!);
    cases.push({ comment, command: line, expected: expected.join("\n") });
    comment = [];
  }
  return cases;
}

describe("interaction scripts (src/testdata)", () => {
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort()) {
    it(file.replace(/\.txt$/, "").replaceAll("-", " "), () => {
      const cases = parse(readFileSync(dir + file, "utf8"));
      const interaction = new Interaction();
      const rewritten: string[] = [];
      for (const c of cases) {
        const actual = interaction.run(c.command);
        rewritten.push(...c.comment, c.command, "----", actual, "");
        if (!update) expect(`${c.command}\n${actual}`).toBe(`${c.command}\n${c.expected}`);
      }
      if (update) writeFileSync(dir + file, rewritten.join("\n"));
    });
  }
});
