/**
 * An ordered map from byte strings to values: a B+tree whose `clone()` is O(1).
 *
 * Keys are "binary strings": one UTF-16 code unit per byte (0–255), as made by
 * `bytesToKey`. JavaScript compares such strings code unit by code unit and a prefix
 * before its extensions, which is exactly unsigned byte order (memcmp, then shorter
 * first), so the tree orders keys the way RocksDB does without a comparator call.
 *
 * Clones share nodes copy-on-write: `clone()` marks the root shared, and any mutation
 * that reaches a shared node copies it first (marking its children shared in turn), so
 * a clone is a stable point-in-time view however the original changes afterwards. The
 * in-memory backend takes its snapshots this way.
 */
export class SortedMap<V> {
  private root: Node<V>;
  private count: number;

  constructor() {
    this.root = new Leaf<V>([], []);
    this.count = 0;
  }

  /** The number of keys. */
  get size(): number {
    return this.count;
  }

  get(key: string): V | undefined {
    let node = this.root;
    while (node instanceof Internal) {
      node = node.children[childIndex(node.keys, key)]!;
    }
    const leaf = node as Leaf<V>;
    const i = lowerBound(leaf.keys, key);
    return i < leaf.keys.length && leaf.keys[i] === key ? leaf.values[i] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Inserts or replaces. Values must not be `undefined` (it means "absent" to `get`). */
  set(key: string, value: V): void {
    if (this.root.shared) this.root = this.root.copy();
    const split = this.insert(this.root, key, value);
    if (split !== undefined) {
      this.root = new Internal<V>(["", split.key], [this.root, split.node]);
    }
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: string): boolean {
    if (this.root.shared) this.root = this.root.copy();
    const removed = this.remove(this.root, key);
    // An internal root left with a single child is replaced by it, so the tree shrinks.
    while (this.root instanceof Internal && this.root.children.length === 1) {
      const only = this.root.children[0]!;
      this.root = only.shared ? only.copy() : only;
    }
    return removed;
  }

  /** A point-in-time copy in O(1); see the class comment. */
  clone(): SortedMap<V> {
    this.root.shared = true;
    const copy = new SortedMap<V>();
    copy.root = this.root;
    copy.count = this.count;
    return copy;
  }

  /**
   * Calls `visit` for each key in `[gte, lt)` in ascending order until it returns
   * `false`. `lt === undefined` means no upper bound. The map must not be mutated
   * during the scan.
   */
  scan(gte: string, lt: string | undefined, visit: (key: string, value: V) => unknown): void {
    scanNode(this.root, gte, lt, visit);
  }

  /** Like `scan`, in descending order. */
  scanReverse(
    gte: string,
    lt: string | undefined,
    visit: (key: string, value: V) => unknown,
  ): void {
    scanNodeReverse(this.root, gte, lt, visit);
  }

  /** The smallest key, or `undefined` when empty. */
  firstKey(): string | undefined {
    let node = this.root;
    while (node instanceof Internal) node = node.children[0]!;
    return node.keys[0];
  }

  /** The largest key, or `undefined` when empty. */
  lastKey(): string | undefined {
    let node = this.root;
    while (node instanceof Internal) node = node.children[node.children.length - 1]!;
    return node.keys[node.keys.length - 1];
  }

  private insert(node: Node<V>, key: string, value: V): Split<V> | undefined {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      if (i < node.keys.length && node.keys[i] === key) {
        node.values[i] = value;
        return undefined;
      }
      node.keys.splice(i, 0, key);
      node.values.splice(i, 0, value);
      this.count++;
      if (node.keys.length <= MAX_NODE_SIZE) return undefined;
      const half = node.keys.length >>> 1;
      const right = new Leaf<V>(node.keys.splice(half), node.values.splice(half));
      return { key: right.keys[0]!, node: right };
    }
    const internal = node as Internal<V>;
    const i = childIndex(internal.keys, key);
    const child = internal.writableChild(i);
    const split = this.insert(child, key, value);
    if (split === undefined) return undefined;
    internal.keys.splice(i + 1, 0, split.key);
    internal.children.splice(i + 1, 0, split.node);
    if (internal.children.length <= MAX_NODE_SIZE) return undefined;
    const half = internal.children.length >>> 1;
    const rightKeys = internal.keys.splice(half);
    const rightChildren = internal.children.splice(half);
    const separator = rightKeys[0]!;
    rightKeys[0] = "";
    return { key: separator, node: new Internal<V>(rightKeys, rightChildren) };
  }

  private remove(node: Node<V>, key: string): boolean {
    if (node instanceof Leaf) {
      const i = lowerBound(node.keys, key);
      if (i >= node.keys.length || node.keys[i] !== key) return false;
      node.keys.splice(i, 1);
      node.values.splice(i, 1);
      this.count--;
      return true;
    }
    const internal = node as Internal<V>;
    const i = childIndex(internal.keys, key);
    const child = internal.children[i]!;
    // Descend without copying first: a miss must leave shared nodes shared.
    if (!child.shared) {
      if (!this.remove(child, key)) return false;
    } else {
      if (child.get(key) === undefined) return false;
      this.remove(internal.writableChild(i), key);
    }
    if (internal.children[i]!.size < MIN_NODE_SIZE) internal.rebalance(i);
    return true;
  }
}

/** Node fan-out. 64 keeps nodes within a few cache lines of pointers and trees shallow. */
const MAX_NODE_SIZE = 64;
/** Below this, a node is merged with or refilled from a sibling. */
const MIN_NODE_SIZE = MAX_NODE_SIZE >>> 2;

interface Split<V> {
  key: string;
  node: Node<V>;
}

type Node<V> = Leaf<V> | Internal<V>;

class Leaf<V> {
  shared = false;
  constructor(
    readonly keys: string[],
    readonly values: V[],
  ) {}

  get size(): number {
    return this.keys.length;
  }

  copy(): Leaf<V> {
    return new Leaf<V>(this.keys.slice(), this.values.slice());
  }

  get(key: string): V | undefined {
    const i = lowerBound(this.keys, key);
    return i < this.keys.length && this.keys[i] === key ? this.values[i] : undefined;
  }
}

/**
 * `keys[i]` (for i >= 1) separates `children[i - 1]` (keys below it) from `children[i]`
 * (keys at or above it); `keys[0]` is unused and kept as "".
 */
class Internal<V> {
  shared = false;
  constructor(
    readonly keys: string[],
    readonly children: Node<V>[],
  ) {}

  get size(): number {
    return this.children.length;
  }

  copy(): Internal<V> {
    for (const child of this.children) child.shared = true;
    return new Internal<V>(this.keys.slice(), this.children.slice());
  }

  get(key: string): V | undefined {
    return this.children[childIndex(this.keys, key)]!.get(key);
  }

  /** The child at `i`, copied first if shared, so that it may be mutated. */
  writableChild(i: number): Node<V> {
    const child = this.children[i]!;
    if (!child.shared) return child;
    const copy = child.copy();
    this.children[i] = copy;
    return copy;
  }

  /** Restores the minimum size of the child at `i` by merging with or borrowing from a sibling. */
  rebalance(i: number): void {
    if (this.children.length < 2) return;
    const left = i > 0 ? i - 1 : i;
    const right = left + 1;
    const a = this.writableChild(left);
    const b = this.writableChild(right);
    if (a instanceof Leaf && b instanceof Leaf) {
      const keys = a.keys.concat(b.keys);
      const values = a.values.concat(b.values);
      if (keys.length <= MAX_NODE_SIZE) {
        a.keys.splice(0, a.keys.length, ...keys);
        a.values.splice(0, a.values.length, ...values);
        this.keys.splice(right, 1);
        this.children.splice(right, 1);
        return;
      }
      const half = keys.length >>> 1;
      a.keys.splice(0, a.keys.length, ...keys.slice(0, half));
      a.values.splice(0, a.values.length, ...values.slice(0, half));
      b.keys.splice(0, b.keys.length, ...keys.slice(half));
      b.values.splice(0, b.values.length, ...values.slice(half));
      this.keys[right] = b.keys[0]!;
      return;
    }
    const ai = a as Internal<V>;
    const bi = b as Internal<V>;
    // The separator moves down into the merged key list, in the place of b's unused keys[0].
    const keys = ai.keys.concat([this.keys[right]!], bi.keys.slice(1));
    const children = ai.children.concat(bi.children);
    if (children.length <= MAX_NODE_SIZE) {
      ai.keys.splice(0, ai.keys.length, ...keys);
      ai.children.splice(0, ai.children.length, ...children);
      this.keys.splice(right, 1);
      this.children.splice(right, 1);
      return;
    }
    const half = children.length >>> 1;
    const separator = keys[half]!;
    ai.keys.splice(0, ai.keys.length, ...keys.slice(0, half));
    ai.children.splice(0, ai.children.length, ...children.slice(0, half));
    const rightKeys = keys.slice(half);
    rightKeys[0] = "";
    bi.keys.splice(0, bi.keys.length, ...rightKeys);
    bi.children.splice(0, bi.children.length, ...children.slice(half));
    this.keys[right] = separator;
  }
}

/** The first index whose key is >= `key`. */
function lowerBound(keys: readonly string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of an internal node that holds `key`: the last i >= 0 with keys[i] <= key. */
function childIndex(keys: readonly string[], key: string): number {
  let lo = 1;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! <= key) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Returns false once `visit` asked to stop. */
function scanNode<V>(
  node: Node<V>,
  gte: string,
  lt: string | undefined,
  visit: (key: string, value: V) => unknown,
): boolean {
  if (node instanceof Leaf) {
    const { keys, values } = node;
    for (let i = lowerBound(keys, gte); i < keys.length; i++) {
      const key = keys[i]!;
      if (lt !== undefined && key >= lt) return false;
      if (visit(key, values[i]!) === false) return false;
    }
    return true;
  }
  const { keys, children } = node as Internal<V>;
  for (let i = childIndex(keys, gte); i < children.length; i++) {
    if (lt !== undefined && i > 0 && keys[i]! >= lt) return false;
    if (!scanNode(children[i]!, gte, lt, visit)) return false;
  }
  return true;
}

function scanNodeReverse<V>(
  node: Node<V>,
  gte: string,
  lt: string | undefined,
  visit: (key: string, value: V) => unknown,
): boolean {
  if (node instanceof Leaf) {
    const { keys, values } = node;
    const start = lt === undefined ? keys.length - 1 : lowerBound(keys, lt) - 1;
    for (let i = start; i >= 0; i--) {
      const key = keys[i]!;
      if (key < gte) return false;
      if (visit(key, values[i]!) === false) return false;
    }
    return true;
  }
  const { keys, children } = node as Internal<V>;
  // The last child that can hold a key below lt.
  let i = children.length - 1;
  if (lt !== undefined) {
    i = childIndex(keys, lt);
    if (i > 0 && keys[i] === lt) i--;
  }
  for (; i >= 0; i--) {
    if (!scanNodeReverse(children[i]!, gte, lt, visit)) return false;
    if (i > 0 && keys[i]! <= gte) return false;
  }
  return true;
}
