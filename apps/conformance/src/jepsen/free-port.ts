import { createServer, type Server } from "node:net";

/**
 * Ports on `host` that were free a moment ago: each is bound to port 0 and released.
 * Another process could take one before the server binds it; servers started on them
 * then fail fast with "address in use", which the caller reports.
 */
export async function freePorts(count: number, host = "127.0.0.1"): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, host, () => resolve(server));
        }),
    ),
  );
  // All are held open together, so the ports are distinct.
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no TCP address");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
