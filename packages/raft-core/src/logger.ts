/**
 * The structured logger raft-core writes to: one event per thing that happened, with its
 * fields first and a short message, which is pino's calling convention, so a pino logger
 * can be passed as is. raft-core never logs on the per-entry hot path.
 */
export interface Logger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A Logger that discards everything; the default. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
