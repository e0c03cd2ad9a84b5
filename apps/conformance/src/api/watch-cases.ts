import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Event,
  Event_EventType,
  WatchCreateRequest_FilterType,
  type WatchCreateRequestSchema,
  type WatchRequestSchema,
  type WatchResponse,
} from "@raftkv/proto/etcd";
import { check, expectEqual } from "../harness/expect.js";
import type { ApiCase, ApiContext } from "./api-context.js";
import { type BidiSession, openBidiSession } from "./bidi-session.js";
import { currentRevision, prefixEnd, putAll, putKey, text } from "./kv-helpers.js";

const WATCH = "etcdserver/api/v3rpc/watch.go (serverWatchStream)";
const WATCHABLE = "mvcc/watchable_store.go";

type WatchSession = BidiSession<MessageInitShape<typeof WatchRequestSchema>, WatchResponse>;

function openWatch(ctx: ApiContext): WatchSession {
  return openBidiSession((requests, options) => ctx.client.watch.watch(requests, options), {
    signal: ctx.signal,
  });
}

/** Sends a create request and returns the id from the `created` response. */
async function create(
  session: WatchSession,
  request: MessageInitShape<typeof WatchCreateRequestSchema>,
): Promise<bigint> {
  session.send({ requestUnion: { case: "createRequest", value: request } });
  const response = await session.next("created response");
  check(response.created, `expected a created response, got ${describe(response)}`);
  check(!response.canceled, `watch was canceled at creation: ${response.cancelReason}`);
  return response.watchId;
}

/** Reads responses until `count` events of watch `id` have arrived. */
async function events(session: WatchSession, id: bigint, count: number): Promise<Event[]> {
  const seen: Event[] = [];
  while (seen.length < count) {
    const response = await session.next(`event ${seen.length + 1} of ${count}`);
    check(
      response.watchId === id,
      `response for watch ${response.watchId}, expected ${id}: ${describe(response)}`,
    );
    check(!response.canceled, `watch canceled: ${response.cancelReason}`);
    seen.push(...response.events);
  }
  check(seen.length === count, `expected ${count} events, got ${seen.length}`);
  return seen;
}

function describe(response: WatchResponse): string {
  return JSON.stringify({
    watchId: String(response.watchId),
    created: response.created,
    canceled: response.canceled,
    compactRevision: String(response.compactRevision),
    events: response.events.map(
      (e) => `${Event_EventType[e.type]} ${text(e.kv?.key ?? new Uint8Array())}`,
    ),
  });
}

const summary = (ctx: ApiContext, list: readonly Event[]) =>
  list.map(
    (e) =>
      `${Event_EventType[e.type]} ${text((e.kv?.key ?? new Uint8Array()).subarray(ctx.prefix.length))}=${text(e.kv?.value ?? new Uint8Array())}`,
  );

/** Watch: creation, events, history, filters, cancellation, compaction, progress. */
export const watchCases: readonly ApiCase[] = [
  {
    name: "watch.events",
    feature: "watch",
    behaviour:
      "A watch on a key reports each later put and delete as one event, in revision order: PUT events carry the new key-value, DELETE events the key with mod_revision set to the delete's revision.",
    reference: WATCH,
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        const id = await create(session, { key: ctx.key("a") });
        const [r1, r2] = await putAll(ctx, [
          ["a", "1"],
          ["a", "2"],
          ["other", "x"],
        ]);
        const deleted = await ctx.client.kv.deleteRange({ key: ctx.key("a") });
        const seen = await events(session, id, 3);
        expectEqual(summary(ctx, seen), ["PUT a=1", "PUT a=2", "DELETE a="], "events");
        expectEqual(seen[0]?.kv?.modRevision, r1, "first event mod_revision");
        expectEqual(seen[1]?.kv?.version, 2n, "second event version");
        expectEqual(seen[1]?.kv?.modRevision, r2, "second event mod_revision");
        expectEqual(
          seen[2]?.kv?.modRevision,
          deleted.header?.revision,
          "delete event mod_revision",
        );
        expectEqual(seen[0]?.prevKv, undefined, "prev_kv when not asked for");
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.prefix",
    feature: "watch",
    behaviour:
      "A watch with range_end reports events for every key in [key, range_end) and no other.",
    reference: WATCHABLE,
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        const prefix = ctx.key("p/");
        const id = await create(session, { key: prefix, rangeEnd: prefixEnd(prefix) });
        await putAll(ctx, [
          ["p/1", "1"],
          ["q", "x"],
          ["p", "x"],
          ["p/2", "2"],
        ]);
        expectEqual(
          summary(ctx, await events(session, id, 2)),
          ["PUT p/1=1", "PUT p/2=2"],
          "events",
        );
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.start-revision",
    feature: "watch",
    behaviour:
      "A watch with start_revision replays every event since that revision (history), then continues with new ones.",
    reference: WATCHABLE,
    async run(ctx) {
      const [r1] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      const session = openWatch(ctx);
      try {
        const id = await create(session, { key: ctx.key("a"), startRevision: r1! });
        await putKey(ctx, ctx.key("a"), "3");
        expectEqual(
          summary(ctx, await events(session, id, 3)),
          ["PUT a=1", "PUT a=2", "PUT a=3"],
          "events",
        );
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.prev-kv",
    feature: "watch",
    behaviour:
      "prev_kv adds the key-value before each event to it; none for a put that creates the key.",
    reference: WATCH,
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        const id = await create(session, { key: ctx.key("a"), prevKv: true });
        await putAll(ctx, [
          ["a", "1"],
          ["a", "2"],
        ]);
        await ctx.client.kv.deleteRange({ key: ctx.key("a") });
        const seen = await events(session, id, 3);
        expectEqual(seen[0]?.prevKv, undefined, "prev_kv of the creating put");
        expectEqual(text(seen[1]?.prevKv?.value ?? new Uint8Array()), "1", "prev_kv of the update");
        expectEqual(text(seen[2]?.prevKv?.value ?? new Uint8Array()), "2", "prev_kv of the delete");
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.filters",
    feature: "watch",
    behaviour: "Filter NOPUT drops put events, NODELETE drops delete events.",
    reference: "etcdserver/api/v3rpc/watch.go (FiltersFromRequest)",
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        const noPut = await create(session, {
          key: ctx.key("a"),
          filters: [WatchCreateRequest_FilterType.NOPUT],
        });
        const noDelete = await create(session, {
          key: ctx.key("b"),
          filters: [WatchCreateRequest_FilterType.NODELETE],
        });
        await putAll(ctx, [
          ["a", "1"],
          ["b", "1"],
        ]);
        await ctx.client.kv.deleteRange({ key: ctx.key("a") });
        await ctx.client.kv.deleteRange({ key: ctx.key("b") });
        await putKey(ctx, ctx.key("b"), "2");
        const byWatch = new Map<bigint, string[]>();
        let total = 0;
        while (total < 3) {
          const response = await session.next(`filtered event ${total + 1}`);
          const list = byWatch.get(response.watchId) ?? [];
          list.push(...summary(ctx, response.events));
          byWatch.set(response.watchId, list);
          total += response.events.length;
        }
        expectEqual(byWatch.get(noPut), ["DELETE a="], "events with NOPUT");
        expectEqual(byWatch.get(noDelete), ["PUT b=1", "PUT b=2"], "events with NODELETE");
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.cancel",
    feature: "watch",
    behaviour:
      "A cancel request answers canceled with the watch id, and the watch reports no more events; other watches of the stream go on.",
    reference: WATCH,
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        const id = await create(session, { key: ctx.key("a") });
        session.send({ requestUnion: { case: "cancelRequest", value: { watchId: id } } });
        const canceled = await session.next("cancel response");
        expectEqual(canceled.canceled, true, "canceled");
        expectEqual(canceled.watchId, id, "watch id of the cancel response");
        const other = await create(session, { key: ctx.key("b") });
        // If the canceled watch still fired, its event (lower revision) would come first.
        await putKey(ctx, ctx.key("a"), "1");
        await putKey(ctx, ctx.key("b"), "1");
        const next = await session.next("event after the cancel");
        expectEqual(next.watchId, other, "watch id of the next event");
        expectEqual(summary(ctx, next.events), ["PUT b=1"], "next events");
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.compacted",
    feature: "watch",
    behaviour:
      "A watch from a compacted revision is created, then canceled with compact_revision set to the compaction revision.",
    reference: "mvcc/watchable_store.go (syncWatchers: compacted watchers)",
    async run(ctx) {
      const [r1] = await putAll(ctx, [
        ["a", "1"],
        ["a", "2"],
      ]);
      const compactAt = await currentRevision(ctx);
      await ctx.client.kv.compact({ revision: compactAt });
      const session = openWatch(ctx);
      try {
        session.send({
          requestUnion: { case: "createRequest", value: { key: ctx.key("a"), startRevision: r1! } },
        });
        for (;;) {
          const response = await session.next("compacted response");
          if (response.compactRevision !== 0n) {
            expectEqual(response.canceled, true, "canceled");
            check(
              response.compactRevision >= compactAt,
              `compact_revision ${response.compactRevision} below ${compactAt}`,
            );
            expectEqual(response.events.length, 0, "events");
            return;
          }
          check(
            response.created && !response.canceled,
            `unexpected response ${describe(response)}`,
          );
        }
      } finally {
        session.close();
      }
    },
  },
  {
    name: "watch.progress",
    feature: "watch",
    behaviour:
      "A progress request is answered with a response without events, watch_id -1, whose header revision is the store's current revision.",
    reference: WATCH,
    async run(ctx) {
      const session = openWatch(ctx);
      try {
        await create(session, { key: ctx.key("quiet") });
        const revision = await putKey(ctx, ctx.key("elsewhere"), "1");
        session.send({ requestUnion: { case: "progressRequest", value: {} } });
        const response = await session.next("progress response");
        expectEqual(response.events.length, 0, "events");
        expectEqual(response.watchId, -1n, "watch_id");
        check(
          (response.header?.revision ?? 0n) >= revision,
          "progress revision below the last write",
        );
      } finally {
        session.close();
      }
    },
  },
];
