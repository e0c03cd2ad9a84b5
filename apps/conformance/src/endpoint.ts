import { InvalidEndpointError } from "./errors.js";

/**
 * Turns `host:port` or `http://host:port` into the base URL of a plaintext gRPC
 * endpoint. IPv6 hosts go in brackets (`[::1]:2379`).
 *
 * @throws InvalidEndpointError when the text is not one of those forms, names another
 * scheme (TLS is not supported yet), or has a port outside 1..65535.
 */
export function endpointToUrl(endpoint: string): string {
  const text = endpoint.trim();
  if (text === "") throw new InvalidEndpointError(endpoint, "empty");
  const withScheme = text.includes("://") ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (cause) {
    throw new InvalidEndpointError(endpoint, "expected host:port", { cause });
  }
  if (url.protocol !== "http:") {
    throw new InvalidEndpointError(endpoint, `scheme ${url.protocol} is not supported; use http`);
  }
  if (url.port === "") throw new InvalidEndpointError(endpoint, "no port");
  const port = Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidEndpointError(endpoint, "port must be 1..65535");
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "") {
    throw new InvalidEndpointError(endpoint, "expected no path, query or fragment");
  }
  return `http://${url.host}`;
}

/**
 * Splits a comma-separated endpoint list (`--endpoints a:1,b:2`) and checks each.
 *
 * @throws InvalidEndpointError for an empty list or any invalid entry.
 */
export function parseEndpointList(list: string): string[] {
  const endpoints = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (endpoints.length === 0) throw new InvalidEndpointError(list, "no endpoints given");
  for (const endpoint of endpoints) endpointToUrl(endpoint);
  return endpoints;
}
