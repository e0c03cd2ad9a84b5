/** Where the CLI writes; tests pass their own. */
export interface CliIo {
  /** Results and the summary line. */
  out(line: string): void;
  /** Usage errors and diagnostics. */
  err(line: string): void;
}

/** The process's stdout and stderr. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
