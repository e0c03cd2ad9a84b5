import { InvalidOptionError } from "./errors.js";

/** A plaintext gRPC endpoint. */
export interface Endpoint {
  host: string;
  port: number;
}

/**
 * Parses "host:port", "http://host:port" or "[::1]:port" (etcdctl's --endpoints forms).
 * Throws InvalidOptionError for anything else, including https (TLS is not supported).
 */
export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  if (trimmed.startsWith("https://")) {
    throw new InvalidOptionError(`TLS endpoints are not supported: ${text}`);
  }
  const bare = trimmed.replace(/^http:\/\//, "").replace(/\/$/, "");
  const match = /^(\[[^\]]+\]|[^:/[\]]+):(\d{1,5})$/.exec(bare);
  if (!match)
    throw new InvalidOptionError(`endpoint must be host:port, got ${JSON.stringify(text)}`);
  const host = (match[1] as string).replace(/^\[(.*)\]$/, "$1");
  const port = Number(match[2]);
  if (port < 1 || port > 65_535) {
    throw new InvalidOptionError(`endpoint port must be 1–65535, got ${JSON.stringify(text)}`);
  }
  return { host, port };
}

/** "host:port", with IPv6 hosts bracketed. */
export function formatEndpoint(endpoint: Endpoint): string {
  return endpoint.host.includes(":")
    ? `[${endpoint.host}]:${endpoint.port}`
    : `${endpoint.host}:${endpoint.port}`;
}
