/**
 * The far end of the transport benchmark, run as a child process: member 2 of a
 * two-member "cluster" that answers every append with an append response and every
 * heartbeat with a heartbeat response, as a follower's Raft node would. Driven over IPC.
 */
import { createServer } from "node:net";
import { type Message, MessageType } from "@raftkv/raft-core";
import { createPeerTransport } from "../peer-transport.js";

const send = (message: unknown) => process.send?.(message);

const transport = createPeerTransport({ id: 2, clusterId: 1n, listen: ["http://127.0.0.1:0"] });
await transport.start({
  onMessages(messages: Message[]) {
    const replies: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.Append) {
        replies.push({
          type: MessageType.AppendResponse,
          from: 2,
          to: 1,
          term: m.term,
          logTerm: 0,
          index: m.index + m.entries.length,
          commit: 0,
          entries: [],
          reject: false,
          rejectHint: 0,
        });
      } else if (m.type === MessageType.Heartbeat) {
        replies.push({ ...m, type: MessageType.HeartbeatResponse, from: 2, to: 1 });
      }
    }
    transport.send(replies);
  },
  async onSnapshot() {},
});

process.on("message", (command: { cmd: string; url?: string }) => {
  switch (command.cmd) {
    case "peer":
      transport.addPeer(1, [command.url!]);
      send({ cmd: "peer" });
      break;
    case "cpu": {
      const { user, system } = process.cpuUsage();
      send({ cmd: "cpu", micros: user + system });
      break;
    }
    case "tcp-echo": {
      const server = createServer((socket) => socket.pipe(socket));
      server.listen(0, "127.0.0.1", () => {
        send({ cmd: "tcp-echo", port: (server.address() as { port: number }).port });
      });
      break;
    }
    case "exit":
      void transport.close().then(() => process.exit(0));
      break;
  }
});
send({ cmd: "ready", url: transport.addresses()[0]!.href });
