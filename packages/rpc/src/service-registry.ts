import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { createMethodImplSpec, createServiceImplSpec, type ConnectRouter, type MethodImpl, type MethodImplSpec, type ServiceImpl } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";

/**
 * What `ServerOptions.routes` registers into: the `service()`/`rpc()` shape of connect's
 * router, so every service's routes and tests stay written against `ConnectRouter`, but it only
 * collects (method, implementation) pairs; the grpc-js server builds its handlers from them.
 * A service registered with some methods missing answers those with UNIMPLEMENTED, as connect did.
 */
export class ServiceRegistry implements ConnectRouter {
  /** connect's own handlers: none are built here (the server is grpc-js). */
  readonly handlers: UniversalHandler[] = [];
  readonly #methods = new Map<string, MethodImplSpec>();
  readonly #services = new Map<string, DescService>();

  service<T extends DescService>(service: T, implementation: Partial<ServiceImpl<T>>): this {
    const spec = createServiceImplSpec(service, implementation);
    for (const method of Object.values(spec.methods)) this.#add(method);
    return this;
  }

  rpc<M extends DescMethod>(method: M, implementation: MethodImpl<M>): this {
    this.#add(createMethodImplSpec(method, implementation) as MethodImplSpec);
    return this;
  }

  /** Every registered method, grouped by service (for grpc-js's one definition per service). */
  byService(): Map<DescService, MethodImplSpec[]> {
    const groups = new Map<DescService, MethodImplSpec[]>();
    for (const spec of this.#methods.values()) {
      const list = groups.get(spec.method.parent) ?? [];
      list.push(spec);
      groups.set(spec.method.parent, list);
    }
    return groups;
  }

  get services(): DescService[] {
    return [...this.#services.values()];
  }

  #add(spec: MethodImplSpec): void {
    this.#services.set(spec.method.parent.typeName, spec.method.parent);
    // A later registration of the same method replaces the earlier one, as in connect's router.
    this.#methods.set(`/${spec.method.parent.typeName}/${spec.method.name}`, spec);
  }
}
