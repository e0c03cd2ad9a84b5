/**
 * The structured logger the transport writes to: fields first, then a short message,
 * which is pino's calling convention, so a pino logger can be passed as is. Nothing is
 * logged per message; rejections and connection changes are logged once per event.
 */
export interface TransportLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** A TransportLogger that discards everything; the default. */
export const silentLogger: TransportLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
