/**
 * The structured logger wal-rocksdb writes to: fields first, then a short message (pino's
 * calling convention, so a pino logger can be passed as is). It logs only rare events:
 * open, load, a torn tail being cut, a storage failure.
 */
export interface WalLogger {
  info(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

/** Discards everything; the default. */
export const silentWalLogger: WalLogger = {
  info() {},
  warn() {},
  error() {},
};
