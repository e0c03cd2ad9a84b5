import { create } from "@bufbuild/protobuf";
import {
  type Entry,
  EntrySchema,
  EntryType,
  type Message,
  MessageSchema,
  MessageType,
} from "@raftkv/proto/raft";

/** The fields of a Raft message a script sets; the rest are zero. */
export interface MessageFields {
  readonly from: bigint;
  readonly to: bigint;
  readonly term: bigint;
  readonly logTerm?: bigint;
  readonly index?: bigint;
  readonly entries?: readonly Entry[];
  readonly commit?: bigint;
  readonly reject?: boolean;
  readonly rejectHint?: bigint;
  readonly context?: Uint8Array;
}

/** A `raftkv.raft.v1.Message` of `type`. */
export function raftMessage(type: MessageType, fields: MessageFields): Message {
  return create(MessageSchema, {
    type,
    from: fields.from,
    to: fields.to,
    term: fields.term,
    logTerm: fields.logTerm ?? 0n,
    index: fields.index ?? 0n,
    entries: [...(fields.entries ?? [])],
    commit: fields.commit ?? 0n,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0n,
    ...(fields.context === undefined ? {} : { context: fields.context }),
  });
}

/** A normal log entry; empty `data` is what every leader appends at the start of its term. */
export function logEntry(index: bigint, term: bigint, data: Uint8Array = new Uint8Array()): Entry {
  return create(EntrySchema, { index, term, type: EntryType.NORMAL, data });
}

/** The message type's name as in the proto (`PRE_VOTE_RESPONSE`). */
export function typeName(type: MessageType): string {
  return MessageType[type] ?? `type ${type}`;
}

/**
 * One line naming what a message says, for failure reports:
 * `APPEND_RESPONSE term=4 index=7 reject=true hint=(5,2)`.
 */
export function describeMessage(m: Message): string {
  const parts = [`${typeName(m.type)} term=${m.term}`];
  switch (m.type) {
    case MessageType.VOTE:
    case MessageType.PRE_VOTE:
      parts.push(`last=(${m.index},${m.logTerm})`);
      break;
    case MessageType.APPEND:
      parts.push(`prev=(${m.index},${m.logTerm})`, `entries=${m.entries.length}`);
      if (m.entries.length > 0) {
        const first = m.entries[0]!;
        const last = m.entries.at(-1)!;
        parts.push(`(${first.index}@${first.term}..${last.index}@${last.term})`);
      }
      parts.push(`commit=${m.commit}`);
      break;
    case MessageType.APPEND_RESPONSE:
      parts.push(`index=${m.index}`, `reject=${m.reject}`);
      if (m.reject) parts.push(`hint=(${m.rejectHint},${m.logTerm})`);
      break;
    case MessageType.HEARTBEAT:
      parts.push(`commit=${m.commit}`);
      break;
    case MessageType.VOTE_RESPONSE:
    case MessageType.PRE_VOTE_RESPONSE:
      parts.push(`reject=${m.reject}`);
      break;
    default:
      break;
  }
  return parts.join(" ");
}

/** Whether `type` is a request for a vote (real or pre-vote). */
export function isVoteRequest(type: MessageType): boolean {
  return type === MessageType.VOTE || type === MessageType.PRE_VOTE;
}
