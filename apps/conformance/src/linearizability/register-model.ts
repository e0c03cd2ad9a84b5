import { illegal, type Model } from "./model.js";

/** A register operation: read it, write it, or compare-and-set it. */
export type RegisterInput =
  | { readonly kind: "read" }
  | { readonly kind: "write"; readonly value: string }
  /** Sets `value` if the register holds `expected` (`null`: the register is empty). */
  | { readonly kind: "cas"; readonly expected: string | null; readonly value: string };

/** What a completed register operation answered. */
export type RegisterOutput =
  | { readonly kind: "read"; readonly value: string | null }
  | { readonly kind: "write" }
  | { readonly kind: "cas"; readonly succeeded: boolean };

/**
 * The register's content: a value, `null` when empty, or `anyValue` when the checker
 * looks at a window of a history without knowing what came before it.
 */
export type RegisterState = string | null | typeof anyValue;

/**
 * A state that stands for every possible value. Stepping from it never rejects an
 * operation the register could accept from some value, so a window found illegal from
 * `anyValue` is illegal whatever happened before it.
 */
export const anyValue: unique symbol = Symbol("any value");

function describeValue(value: string | null): string {
  return value === null ? "(empty)" : JSON.stringify(value);
}

/**
 * A linearizable register (Herlihy & Wing): every read returns the latest write, a
 * compare-and-set succeeds exactly when the register holds the expected value.
 * `initial` is the register's content before the history (default: empty).
 */
export function createRegisterModel(
  initial: RegisterState = null,
): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    init: () => initial,
    anyState: () => anyValue,
    step(state, input, output) {
      switch (input.kind) {
        case "read": {
          // A read with an unknown outcome has no effect and reveals nothing.
          if (output === undefined) return state;
          if (output.kind !== "read") return illegal;
          if (state === anyValue) return output.value;
          return state === output.value ? state : illegal;
        }
        case "write":
          if (output !== undefined && output.kind !== "write") return illegal;
          return input.value;
        case "cas": {
          if (output !== undefined && output.kind !== "cas") return illegal;
          if (state === anyValue) {
            if (output === undefined) return anyValue;
            // A failed CAS from an unknown value leaves an unknown value (one that is not
            // `expected`); widening it to any value keeps the check sound.
            return output.succeeded ? input.value : anyValue;
          }
          const matches = state === input.expected;
          if (output === undefined) return matches ? input.value : state;
          if (output.succeeded !== matches) return illegal;
          return matches ? input.value : state;
        }
      }
    },
    key(state) {
      if (state === anyValue) return "*";
      return state === null ? "-" : `=${state}`;
    },
    describeState(state) {
      return state === anyValue ? "(any value)" : describeValue(state);
    },
    describeOperation(input, output) {
      let call: string;
      switch (input.kind) {
        case "read":
          call = "read()";
          break;
        case "write":
          call = `write(${describeValue(input.value)})`;
          break;
        case "cas":
          call = `cas(${describeValue(input.expected)} -> ${describeValue(input.value)})`;
          break;
      }
      if (output === undefined) return `${call} -> unknown`;
      switch (output.kind) {
        case "read":
          return `${call} -> ${describeValue(output.value)}`;
        case "write":
          return `${call} -> ok`;
        case "cas":
          return `${call} -> ${output.succeeded ? "ok" : "failed"}`;
      }
    },
  };
}
