import type { DescField, DescFile } from "@bufbuild/protobuf";
import { ScalarType } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import protobuf from "protobufjs";

/**
 * Every wire-relevant fact of a set of .proto packages, one entry per message, field,
 * enum, enum value, service and method, keyed by full name: two schemas with equal
 * summaries put the same bytes on the wire, serve the same gRPC paths and write the
 * same JSON field and enum names.
 */
export type SchemaSummary = Record<string, string>;

function ourFieldType(field: DescField): string {
  switch (field.fieldKind) {
    case "scalar":
      return ScalarType[field.scalar].toLowerCase();
    case "enum":
      return field.enum.typeName;
    case "message":
      return field.message.typeName;
    case "list": {
      const item =
        field.listKind === "scalar"
          ? ScalarType[field.scalar].toLowerCase()
          : field.listKind === "enum"
            ? field.enum.typeName
            : field.message.typeName;
      const packed = field.listKind !== "message" && field.packed ? " packed" : "";
      return `repeated${packed} ${item}`;
    }
    case "map":
      return `map<${ScalarType[field.mapKey].toLowerCase()}, ${field.mapKind}>`;
  }
}

const streamingOf = {
  unary: [false, false],
  server_streaming: [false, true],
  client_streaming: [true, false],
  bidi_streaming: [true, true],
} as const;

function methodSignature(
  input: string,
  output: string,
  clientStream: boolean,
  serverStream: boolean,
) {
  return `${clientStream ? "stream " : ""}${input} -> ${serverStream ? "stream " : ""}${output}`;
}

/** The summary of our generated file descriptors. */
export function summarizeOurs(files: readonly DescFile[]): SchemaSummary {
  const out: SchemaSummary = {};
  for (const file of files) {
    for (const type of nestedTypes(file)) {
      switch (type.kind) {
        case "message":
          out[`message ${type.typeName}`] = "";
          for (const field of type.fields) {
            const oneof = field.oneof ? ` oneof ${field.oneof.name}` : "";
            out[`field ${type.typeName}.${field.name}`] =
              `${field.number} ${ourFieldType(field)}${oneof}`;
          }
          break;
        case "enum":
          out[`enum ${type.typeName}`] = "";
          for (const value of type.values)
            out[`value ${type.typeName}.${value.name}`] = `${value.number}`;
          break;
        case "service":
          out[`service ${type.typeName}`] = "";
          for (const method of type.methods) {
            const [clientStream, serverStream] = streamingOf[method.methodKind];
            out[`method ${type.typeName}.${method.name}`] = methodSignature(
              method.input.typeName,
              method.output.typeName,
              clientStream,
              serverStream,
            );
          }
          break;
        case "extension":
          out[`extension ${type.typeName}`] = `${type.number}`;
          break;
      }
    }
  }
  return out;
}

function theirName(type: protobuf.ReflectionObject): string {
  return type.fullName.replace(/^\./, "");
}

function theirFieldType(field: protobuf.Field): string {
  const item = field.resolvedType ? theirName(field.resolvedType) : field.type;
  if (!field.repeated) return item;
  // Only numeric scalars and enums can be packed; protobufjs reports every proto3
  // repeated field as packed and decides at encoding time.
  const packable =
    field.resolvedType instanceof protobuf.Enum || field.type in protobuf.types.packed;
  const packed = packable && field.packed ? " packed" : "";
  return `repeated${packed} ${item}`;
}

function summarizeNamespace(ns: protobuf.NamespaceBase, out: SchemaSummary): void {
  for (const type of ns.nestedArray) {
    if (type instanceof protobuf.Type) {
      out[`message ${theirName(type)}`] = "";
      for (const field of type.fieldsArray) {
        const oneof = field.partOf ? ` oneof ${field.partOf.name}` : "";
        out[`field ${theirName(type)}.${field.name}`] =
          `${field.id} ${theirFieldType(field)}${oneof}`;
      }
    } else if (type instanceof protobuf.Enum) {
      out[`enum ${theirName(type)}`] = "";
      for (const [name, number] of Object.entries(type.values)) {
        out[`value ${theirName(type)}.${name}`] = `${number}`;
      }
    } else if (type instanceof protobuf.Service) {
      out[`service ${theirName(type)}`] = "";
      for (const method of type.methodsArray) {
        method.resolve();
        out[`method ${theirName(type)}.${method.name}`] = methodSignature(
          theirName(method.resolvedRequestType as protobuf.Type),
          theirName(method.resolvedResponseType as protobuf.Type),
          method.requestStream === true,
          method.responseStream === true,
        );
      }
    }
    if (type instanceof protobuf.Namespace) summarizeNamespace(type, out);
  }
}

/** The summary of the named packages of a protobufjs root. */
export function summarizeReference(
  root: protobuf.Root,
  packages: readonly string[],
): SchemaSummary {
  const out: SchemaSummary = {};
  for (const name of packages) {
    const ns = root.lookup(name);
    if (!(ns instanceof protobuf.Namespace))
      throw new Error(`package ${name} not found in the reference`);
    summarizeNamespace(ns, out);
  }
  return out;
}
