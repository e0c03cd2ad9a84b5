import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DriverError } from "../errors.js";
import type { CreateDriver } from "./cluster-driver.js";
import { createDriver as createEtcdDriver } from "./etcd-driver.js";
import { createDriver as createRaftkvDriver } from "./raftkv-driver.js";

/**
 * The driver factory named by `--driver`: `etcd` and `raftkv` are built in; anything
 * else is a module path (relative to the working directory) or package name whose
 * export `createDriver` is used.
 *
 * @throws DriverError when the module cannot be imported or exports no createDriver.
 */
export async function loadDriver(spec: string): Promise<CreateDriver> {
  if (spec === "etcd") return createEtcdDriver;
  if (spec === "raftkv") return createRaftkvDriver;
  const looksLikePath = spec.startsWith(".") || isAbsolute(spec) || /\.[cm]?js$/.test(spec);
  const target = looksLikePath ? pathToFileURL(resolve(spec)).href : spec;
  let module: { createDriver?: unknown };
  try {
    module = (await import(target)) as { createDriver?: unknown };
  } catch (cause) {
    throw new DriverError(`cannot load driver module ${JSON.stringify(spec)}`, { cause });
  }
  if (typeof module.createDriver !== "function") {
    throw new DriverError(`driver module ${JSON.stringify(spec)} exports no createDriver function`);
  }
  return module.createDriver as CreateDriver;
}
