import * as grpc from "@grpc/grpc-js";
import { create, fromBinary, toBinary, type DescMessage } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";

/**
 * A stock grpc-js client for any service generated from proto/, built from the descriptor
 * alone (no grpc-js codegen exists for protobuf-es v2). Used to prove that an independent
 * gRPC implementation works against our connect-node servers.
 */
export function createGrpcJsClient<S extends GenServiceMethods>(service: GenService<S>, target: string): grpc.Client & Record<string, Function> {
  const definition: grpc.ServiceDefinition = {};
  for (const method of service.methods) {
    const io = (schema: DescMessage) => ({
      serialize: (m: unknown) => Buffer.from(toBinary(schema, create(schema, m as never))),
      deserialize: (b: Buffer) => fromBinary(schema, b),
    });
    const input = io(method.input);
    const output = io(method.output);
    definition[method.localName] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: method.methodKind === "client_streaming" || method.methodKind === "bidi_streaming",
      responseStream: method.methodKind === "server_streaming" || method.methodKind === "bidi_streaming",
      requestSerialize: input.serialize,
      requestDeserialize: input.deserialize,
      responseSerialize: output.serialize,
      responseDeserialize: output.deserialize,
    };
  }
  const Client = grpc.makeGenericClientConstructor(definition, service.typeName);
  // Bearer tokens (TCP mode) travel as per-call metadata: grpc-js refuses call credentials on insecure channels.
  return new Client(target, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
}

/** Promise wrapper for a unary grpc-js call. */
export function unary<T>(client: grpc.Client & Record<string, Function>, method: string, request: unknown, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    (client[method] as Function).call(client, request, metadata, { deadline: Date.now() + 10_000 }, (error: grpc.ServiceError | null, response: T) => {
      if (error) reject(error);
      else resolve(response);
    });
  });
}
