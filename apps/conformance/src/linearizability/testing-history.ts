import type { Operation } from "./operation.js";
import type { RegisterInput, RegisterOutput } from "./register-model.js";

/** A register operation as the checker sees it. */
export type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

/**
 * Builds register histories for tests and examples in a compact form: each call names
 * the client, the invocation and response times, and the result. Ids are assigned in
 * call order.
 */
export class RegisterHistoryBuilder {
  readonly #operations: RegisterOperation[] = [];

  /** A read that returned `value` (`null`: the register was empty). */
  read(clientId: number, call: number, ret: number, value: string | null): this {
    return this.#add(clientId, { kind: "read" }, { kind: "read", value }, call, ret);
  }

  /** An acknowledged write. */
  write(clientId: number, call: number, ret: number, value: string): this {
    return this.#add(clientId, { kind: "write", value }, { kind: "write" }, call, ret);
  }

  /** A compare-and-set that answered `succeeded`. */
  cas(
    clientId: number,
    call: number,
    ret: number,
    expected: string | null,
    value: string,
    succeeded: boolean,
  ): this {
    return this.#add(
      clientId,
      { kind: "cas", expected, value },
      { kind: "cas", succeeded },
      call,
      ret,
    );
  }

  /** A write whose outcome is unknown: it may take effect any time after `call`, or never. */
  unknownWrite(clientId: number, call: number, value: string): this {
    return this.#add(clientId, { kind: "write", value }, undefined, call, Infinity);
  }

  /** A compare-and-set whose outcome is unknown. */
  unknownCas(clientId: number, call: number, expected: string | null, value: string): this {
    return this.#add(clientId, { kind: "cas", expected, value }, undefined, call, Infinity);
  }

  build(): RegisterOperation[] {
    return [...this.#operations];
  }

  #add(
    clientId: number,
    input: RegisterInput,
    output: RegisterOutput | undefined,
    call: number,
    ret: number,
  ): this {
    if (!(ret >= call)) {
      throw new RangeError(`operation ${this.#operations.length}: returns before it is called`);
    }
    this.#operations.push({
      id: this.#operations.length,
      clientId,
      input,
      output,
      call,
      return: ret,
    });
    return this;
  }
}

/** Starts a register history. */
export function registerHistory(): RegisterHistoryBuilder {
  return new RegisterHistoryBuilder();
}
