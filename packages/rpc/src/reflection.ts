import { createRegistry, toBinary, type DescFile, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ConnectRouter } from "@connectrpc/connect";
import * as v1 from "@jarvis/proto/grpc/reflection/v1/reflection";
import * as v1alpha from "@jarvis/proto/grpc/reflection/v1alpha/reflection";

/**
 * gRPC server reflection (grpc.reflection.v1 and the older v1alpha, which many tools still
 * ask first), built on the descriptors protobuf-es embeds in the generated code: no .proto files
 * are read at run time, so what tools see is exactly what the server was compiled against.
 */
export function registerReflection(router: ConnectRouter, services: readonly DescService[]): void {
  const index = new ReflectionIndex(services);
  router.service(v1.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) yield { originalRequest: request, messageResponse: index.answer(request.messageRequest, sent) };
    },
  });
  router.service(v1alpha.ServerReflection, {
    async *serverReflectionInfo(requests) {
      const sent = new Set<string>();
      for await (const request of requests) yield { originalRequest: request, messageResponse: index.answer(request.messageRequest, sent) };
    },
  });
}

/** The request oneof of either version (they are field-for-field identical). */
type ReflectionQuery =
  | { case: "fileByFilename" | "fileContainingSymbol" | "allExtensionNumbersOfType" | "listServices"; value: string }
  | { case: "fileContainingExtension"; value: { containingType: string; extensionNumber: number } }
  | { case: undefined; value?: undefined };

export class ReflectionIndex {
  readonly #serviceNames: string[];
  readonly #files = new Map<string, DescFile>();
  readonly #registry;

  constructor(services: readonly DescService[]) {
    const names = new Set(services.map((s) => s.typeName));
    names.add(v1.ServerReflection.typeName);
    names.add(v1alpha.ServerReflection.typeName);
    this.#serviceNames = [...names].sort();
    const visit = (file: DescFile) => {
      if (this.#files.has(file.name + ".proto")) return;
      this.#files.set(file.name + ".proto", file);
      file.dependencies.forEach(visit);
    };
    for (const service of [...services, v1.ServerReflection, v1alpha.ServerReflection]) visit(service.file);
    this.#registry = createRegistry(...this.#files.values());
  }

  answer(query: ReflectionQuery, sent: Set<string>) {
    switch (query.case) {
      case "listServices":
        return { case: "listServicesResponse" as const, value: { service: this.#serviceNames.map((name) => ({ name })) } };
      case "fileByFilename":
        return this.#filesFrom(this.#files.get(query.value), `file ${query.value}`, sent);
      case "fileContainingSymbol":
        return this.#filesFrom(this.#fileOfSymbol(query.value), `symbol ${query.value}`, sent);
      case "fileContainingExtension": {
        const ext = this.#registry.getExtensionFor(this.#registry.getMessage(query.value.containingType) ?? emptyMessage, query.value.extensionNumber);
        return this.#filesFrom(ext?.file, `extension ${query.value.extensionNumber} of ${query.value.containingType}`, sent);
      }
      case "allExtensionNumbersOfType": {
        const message = this.#registry.getMessage(query.value);
        if (!message) return notFound(`type ${query.value}`);
        const numbers = [...this.#registry].filter((d) => d.kind === "extension" && d.extendee.typeName === query.value).map((d) => (d.kind === "extension" ? d.number : 0));
        return { case: "allExtensionNumbersResponse" as const, value: { baseTypeName: query.value, extensionNumber: numbers } };
      }
      default:
        return { case: "errorResponse" as const, value: { errorCode: Code.InvalidArgument, errorMessage: "empty reflection request" } };
    }
  }

  #fileOfSymbol(symbol: string): DescFile | undefined {
    const desc = this.#registry.get(symbol);
    if (desc) return desc.kind === "extension" || desc.kind === "message" || desc.kind === "enum" || desc.kind === "service" ? desc.file : undefined;
    // A method (pkg.Service.Method) or a field/enum value: the file of its parent.
    const parent = symbol.slice(0, symbol.lastIndexOf("."));
    return parent && parent !== symbol ? this.#fileOfSymbol(parent) : undefined;
  }

  /** The file then its imports, each sent once per stream (the protocol allows skipping repeats). */
  #filesFrom(file: DescFile | undefined, what: string, sent: Set<string>) {
    if (!file) return notFound(what);
    const out: Uint8Array[] = [];
    const add = (f: DescFile, force: boolean) => {
      const name = f.name + ".proto";
      if (sent.has(name) && !force) return;
      sent.add(name);
      out.push(toBinary(FileDescriptorProtoSchema, f.proto));
      f.dependencies.forEach((d) => add(d, false));
    };
    add(file, true);
    return { case: "fileDescriptorResponse" as const, value: { fileDescriptorProto: out } };
  }
}

const emptyMessage = { typeName: "" } as never;

function notFound(what: string) {
  return { case: "errorResponse" as const, value: { errorCode: Code.NotFound, errorMessage: `${what} not found` } };
}
