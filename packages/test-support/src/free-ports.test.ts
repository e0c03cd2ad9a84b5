import { createServer } from "node:net";
import { expect, it } from "vitest";
import { freePorts } from "./free-ports.js";

it("hands out distinct ports that can be bound right away", async () => {
  const ports = await freePorts(4);
  expect(new Set(ports).size).toBe(4);
  for (const port of ports) {
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
    });
  }
});
