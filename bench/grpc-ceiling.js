// The ceiling for end-to-end delivery: a bare grpc-js bidi stream over a Unix socket, echoing
// 100-byte messages (no protobuf, no store, no network hop) — the cheapest round trip a
// client of a local gRPC service can get on this machine.
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";

const same = (x) => x;
const METHOD = "/bench.Echo/Echo";
const UNARY = "/bench.Echo/Unary";
const definition = {
  echo: { path: METHOD, requestStream: true, responseStream: true, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same },
  unary: { path: UNARY, requestStream: false, responseStream: false, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same },
};

export async function startGrpcEcho(dir) {
  const address = `unix:${join(dir, "echo.sock")}`;
  const server = new grpc.Server();
  server.addService(definition, {
    echo(call) {
      call.on("data", (data) => call.write(data));
      call.on("end", () => call.end());
    },
    unary(call, callback) {
      callback(null, call.request);
    },
  });
  await new Promise((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return {
    /** N round trips of `payload` on one stream, writes respecting the stream's backpressure. */
    async roundTrips(n, payload) {
      const call = client.makeBidiStreamRequest(METHOD, same, same);
      const done = new Promise((resolve, reject) => {
        let seen = 0;
        call.on("data", () => {
          if (++seen === n) resolve();
        });
        call.on("error", reject);
      });
      for (let i = 0; i < n; i++) {
        if (!call.write(payload)) await new Promise((resolve) => call.once("drain", resolve));
      }
      await done;
      call.end();
    },
    /** One unary round trip of `payload`. */
    unaryCall(payload) {
      return new Promise((resolve, reject) => client.makeUnaryRequest(UNARY, same, same, payload, (e) => (e ? reject(e) : resolve())));
    },
    async close() {
      client.close();
      await new Promise((resolve) => server.tryShutdown(resolve));
    },
  };
}
