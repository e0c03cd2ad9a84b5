import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";

/**
 * A message as protobufjs sees it with keepCase names: what `toObject` returns with
 * `{ longs: String, defaults: true, oneofs: true }` (64-bit integers as decimal
 * strings, bytes as Buffers, enums as numbers), or what `fromObject` accepts.
 */
export type ReferenceObject = Record<string, unknown>;

type Fields = Record<string, unknown>;
type OneofValue = { case: string | undefined; value?: unknown };

const longTypes = new Set<ScalarType>([
  ScalarType.INT64,
  ScalarType.UINT64,
  ScalarType.SINT64,
  ScalarType.FIXED64,
  ScalarType.SFIXED64,
]);

/** The field's value in a protobuf-es message; undefined for an unselected oneof member. */
function readField(message: Fields, field: DescField): unknown {
  if (field.oneof === undefined) return message[field.localName];
  const oneof = message[field.oneof.localName] as OneofValue;
  return oneof.case === field.localName ? oneof.value : undefined;
}

function isDefaultScalar(type: ScalarType, value: unknown): boolean {
  if (type === ScalarType.BYTES) return (value as Uint8Array).length === 0;
  return value === 0 || value === 0n || value === false || value === "";
}

function scalarToReference(type: ScalarType, value: unknown): unknown {
  if (longTypes.has(type)) return (value as bigint).toString();
  if (type === ScalarType.BYTES) return Buffer.from(value as Uint8Array);
  return value;
}

function sameScalar(type: ScalarType, ours: unknown, theirs: unknown): boolean {
  if (longTypes.has(type))
    return typeof theirs === "string" && (ours as bigint).toString() === theirs;
  if (type === ScalarType.BYTES) {
    return theirs instanceof Uint8Array && Buffer.from(ours as Uint8Array).equals(theirs);
  }
  return ours === theirs;
}

/**
 * Converts a protobuf-es message into the object protobufjs' `fromObject` takes. Unset
 * implicit-presence fields are left out, as proto3 leaves them off the wire.
 */
export function toReferenceObject(desc: DescMessage, message: object): ReferenceObject {
  const out: ReferenceObject = {};
  for (const field of desc.fields) {
    const value = readField(message as Fields, field);
    if (value === undefined) continue;
    switch (field.fieldKind) {
      case "scalar":
        if (field.oneof === undefined && isDefaultScalar(field.scalar, value)) continue;
        out[field.name] = scalarToReference(field.scalar, value);
        break;
      case "enum":
        if (field.oneof === undefined && value === 0) continue;
        out[field.name] = value;
        break;
      case "message":
        out[field.name] = toReferenceObject(field.message, value as object);
        break;
      case "list": {
        const items = value as unknown[];
        if (items.length === 0) continue;
        out[field.name] = items.map((item) => {
          if (field.listKind === "message") return toReferenceObject(field.message, item as object);
          if (field.listKind === "scalar") return scalarToReference(field.scalar, item);
          return item;
        });
        break;
      }
      case "map":
        throw new Error(`map field ${field.name} is not supported by this comparison`);
    }
  }
  return out;
}

/**
 * Every difference between a protobuf-es message and the same message decoded by
 * protobufjs, as readable paths; empty when they agree on every field.
 */
export function diffWithReference(
  desc: DescMessage,
  ours: object,
  theirs: ReferenceObject,
  path: string = desc.typeName,
): string[] {
  const diffs: string[] = [];
  const known = new Set<string>([
    ...desc.fields.map((f) => f.name),
    ...desc.oneofs.map((o) => o.name),
  ]);
  for (const key of Object.keys(theirs)) {
    if (!known.has(key)) diffs.push(`${path}.${key}: only in the reference decoding`);
  }
  for (const field of desc.fields) {
    const at = `${path}.${field.name}`;
    const value = readField(ours as Fields, field);
    const other = theirs[field.name];
    if (field.oneof !== undefined) {
      const theirCase = theirs[field.oneof.name];
      if ((value !== undefined) !== (theirCase === field.name)) {
        diffs.push(`${at}: oneof ${field.oneof.name} is ${String(theirCase)} in the reference`);
        continue;
      }
      if (value === undefined) continue;
    }
    switch (field.fieldKind) {
      case "scalar":
        if (!sameScalar(field.scalar, value, other))
          diffs.push(`${at}: ${show(value)} != ${show(other)}`);
        break;
      case "enum":
        if (value !== other) diffs.push(`${at}: ${show(value)} != ${show(other)}`);
        break;
      case "message":
        if (value === undefined) {
          if (other !== null && other !== undefined)
            diffs.push(`${at}: unset here, set in the reference`);
        } else if (other === null || typeof other !== "object") {
          diffs.push(`${at}: set here, unset in the reference`);
        } else {
          diffs.push(
            ...diffWithReference(field.message, value as object, other as ReferenceObject, at),
          );
        }
        break;
      case "list": {
        const items = value as unknown[];
        if (!Array.isArray(other) || other.length !== items.length) {
          diffs.push(
            `${at}: ${items.length} items != ${Array.isArray(other) ? other.length : show(other)}`,
          );
          break;
        }
        items.forEach((item, i) => {
          const them: unknown = other[i];
          if (field.listKind === "message") {
            diffs.push(
              ...diffWithReference(
                field.message,
                item as object,
                them as ReferenceObject,
                `${at}[${i}]`,
              ),
            );
          } else if (
            field.listKind === "scalar" ? !sameScalar(field.scalar, item, them) : item !== them
          ) {
            diffs.push(`${at}[${i}]: ${show(item)} != ${show(them)}`);
          }
        });
        break;
      }
      case "map":
        diffs.push(`${at}: map fields are not supported by this comparison`);
    }
  }
  return diffs;
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `bytes[${Buffer.from(value).toString("hex")}]`;
  if (typeof value === "bigint") return `${value}n`;
  return JSON.stringify(value) ?? String(value);
}

/**
 * Adds `Type.field` for every field holding a non-default value in message, nested
 * messages included. A field that is only ever default in a test's fixtures proves
 * nothing about its number or type, since proto3 leaves default values off the wire.
 */
export function collectSetFields(desc: DescMessage, message: object, into: Set<string>): void {
  for (const field of desc.fields) {
    const value = readField(message as Fields, field);
    if (value === undefined) continue;
    const name = `${desc.typeName}.${field.name}`;
    switch (field.fieldKind) {
      case "scalar":
        if (field.oneof !== undefined || !isDefaultScalar(field.scalar, value)) into.add(name);
        break;
      case "enum":
        if (value !== 0) into.add(name);
        break;
      case "message":
        into.add(name);
        collectSetFields(field.message, value as object, into);
        break;
      case "list": {
        const items = value as unknown[];
        if (items.length > 0) into.add(name);
        if (field.listKind === "message") {
          for (const item of items) collectSetFields(field.message, item as object, into);
        }
        break;
      }
      case "map":
        into.add(name);
    }
  }
}

/** `Type.field` for every field of desc and of every message reachable from it. */
export function reachableFields(desc: DescMessage, into = new Set<string>()): Set<string> {
  for (const field of desc.fields) {
    const name = `${desc.typeName}.${field.name}`;
    if (into.has(name)) continue;
    into.add(name);
    if (
      field.fieldKind === "message" ||
      (field.fieldKind === "list" && field.listKind === "message")
    ) {
      reachableFields(field.message, into);
    }
  }
  return into;
}
