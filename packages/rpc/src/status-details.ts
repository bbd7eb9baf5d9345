import { create, toBinary } from "@bufbuild/protobuf";
import { anyPack } from "@bufbuild/protobuf/wkt";
import { Metadata, type StatusObject, type status as GrpcCode } from "@grpc/grpc-js";
import type { ConnectError } from "@connectrpc/connect";
import { StatusSchema } from "@jarvis/proto/google/rpc/status";
import { toConnectError } from "./errors.js";

/** The trailer gRPC libraries read rich error details from (a serialized google.rpc.Status). */
const STATUS_DETAILS_KEY = "grpc-status-details-bin";

/**
 * A handler's failure as the status grpc-js sends: the code and message from the one error
 * table (errors.ts), the error's metadata (`jarvis-error-code`) and the handler's response
 * trailers as trailing metadata, and its details (ErrorInfo) packed into a google.rpc.Status in
 * `grpc-status-details-bin`, byte for byte what connect-node sent before, so every client
 * (connect, grpcio, buf curl) decodes the same thing.
 */
export function grpcStatusOf(error: unknown, trailer?: Headers): StatusObject {
  const status = toConnectError(error);
  const metadata = trailer ? metadataOf(trailer) : new Metadata();
  status.metadata.forEach((value, key) => addHeader(metadata, key, value));
  if (status.details.length > 0) {
    metadata.set(STATUS_DETAILS_KEY, asBuffer(toBinary(StatusSchema, statusMessage(status))));
  }
  // connect's Code and grpc-js's status are both the gRPC status numbers.
  return { code: status.code as number as GrpcCode, details: status.rawMessage, metadata };
}

function statusMessage(error: ConnectError) {
  return create(StatusSchema, {
    code: error.code,
    message: error.rawMessage,
    details: error.details.map((detail) =>
      // Outgoing details carry their schema; details relayed from another call arrive as bytes.
      "desc" in detail ? anyPack(detail.desc, create(detail.desc, detail.value)) : { typeUrl: `type.googleapis.com/${detail.type}`, value: detail.value },
    ),
  });
}

/** Headers (what handlers see) → grpc-js Metadata; `-bin` values travel base64 in Headers. */
export function metadataOf(headers: Headers): Metadata {
  const metadata = new Metadata();
  headers.forEach((value, key) => addHeader(metadata, key, value));
  return metadata;
}

function addHeader(metadata: Metadata, key: string, value: string): void {
  if (key.endsWith("-bin")) {
    for (const part of value.split(",")) metadata.add(key, Buffer.from(part.trim(), "base64"));
  } else {
    metadata.add(key, value);
  }
}

/** grpc-js metadata → Headers, as connect gave handlers (`-bin` values base64, repeated keys joined). */
export function headersOf(metadata: Metadata): Headers {
  const headers = new Headers();
  for (const [key, values] of Object.entries(metadata.toHttp2Headers())) {
    for (const value of Array.isArray(values) ? values : [values]) headers.append(key, String(value));
  }
  return headers;
}

/** A view, not a copy: grpc-js frames messages with Buffer methods. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
