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

/** Options of `simulateRegisterHistory`. */
export interface SimulationOptions {
  readonly seed: number;
  readonly clients: number;
  readonly operationsPerClient: number;
}

/**
 * A history of `clients` clients against a truly atomic register: each operation takes
 * effect at a random instant inside its interval, and its output is computed in that
 * order, so every history it returns is linearizable. Reads 40%, writes 30%,
 * compare-and-set 30% (half of them expecting the current value).
 */
export function simulateRegisterHistory(options: SimulationOptions): RegisterOperation[] {
  let s = options.seed >>> 0 || 1;
  const random = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
  type Planned = { client: number; call: number; ret: number; point: number; roll: number };
  const planned: Planned[] = [];
  for (let c = 0; c < options.clients; c++) {
    let t = random() * 5;
    for (let i = 0; i < options.operationsPerClient; i++) {
      const call = t;
      const ret = call + 0.5 + random() * 10;
      planned.push({ client: c, call, ret, point: call + random() * (ret - call), roll: random() });
      t = ret + random() * 3;
    }
  }
  planned.sort((a, b) => a.point - b.point);
  let value: string | null = null;
  let counter = 0;
  const ops: RegisterOperation[] = [];
  for (const p of planned) {
    const base = { id: ops.length, clientId: p.client, call: p.call, return: p.ret };
    if (p.roll < 0.4) {
      ops.push({ ...base, input: { kind: "read" }, output: { kind: "read", value } });
    } else if (p.roll < 0.7) {
      value = `v${counter++}`;
      ops.push({ ...base, input: { kind: "write", value }, output: { kind: "write" } });
    } else {
      const expected = random() < 0.5 ? value : `v${Math.floor(random() * (counter + 1))}`;
      const next = `v${counter++}`;
      const succeeded = expected === value;
      if (succeeded) value = next;
      ops.push({
        ...base,
        input: { kind: "cas", expected, value: next },
        output: { kind: "cas", succeeded },
      });
    }
  }
  return ops;
}
