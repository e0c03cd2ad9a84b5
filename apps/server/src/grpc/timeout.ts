const unitMs: Record<string, number> = {
  H: 3_600_000,
  M: 60_000,
  S: 1_000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/**
 * Parses a `grpc-timeout` header ("1S", "250m", "100000u": at most 8 digits and a unit)
 * into milliseconds. Returns undefined when absent; throws RangeError when malformed.
 */
export function parseGrpcTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,8})([HMSmun])$/.exec(value);
  if (!match) throw new RangeError(`malformed grpc-timeout header "${value}"`);
  return Number(match[1]) * (unitMs[match[2] as string] as number);
}
