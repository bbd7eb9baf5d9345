#!/usr/bin/python3
"""A stock Python gRPC client of jarvis.session.v1, for the interop test.

Run it with Debian's /usr/bin/python3 (packages python3-grpcio, python3-protobuf)
against stubs that protoc + grpc_python_plugin generated from proto/ into STUBS:

  session_client.py --target unix:///PROFILE/run/session.sock --stubs STUBS \
      --to CONTACT --text TEXT [--token TOKEN] [--timeout SECONDS]

--target is a gRPC target (unix:///abs/path, host:port) or Jarvis's own
tcp://host:port form from <profile>/run/ipc.json. With --token every call
carries the metadata "authorization: Bearer TOKEN" (TCP mode, design §6).

Steps, in order; each prints one JSON line on stdout, {"step": NAME, ...}:
  status            GetStatus: uid, name, locked
  health            grpc.health.v1 Health.Check: status (must be SERVING)
  contacts          ListContacts: uid, name of each contact
  send              SendMessage(TEXT to CONTACT): id, state
  invalid_argument  SendMessage with an empty conversation: code (must be INVALID_ARGUMENT)
  delivered         Subscribe(after_cursor=0) read until the sent message is DELIVERED
  done
The first step that fails prints {"step": NAME, "ok": false, "code": ..., "details": ...}
instead and the client exits 1.
"""

import argparse
import json
import os
import sys

import grpc

# Bounds every unary call; the Subscribe wait has its own --timeout.
CALL_TIMEOUT_SECONDS = 10


class StepFailed(Exception):
    """A step did not give the expected answer; code is a gRPC status name or our own word."""

    def __init__(self, step, code, details):
        super().__init__(details)
        self.step = step
        self.code = code
        self.details = details


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def load_stubs(stubs_dir):
    """Makes the generated modules importable and returns them."""
    sys.path.insert(0, stubs_dir)
    # proto/grpc/health/v1/health.proto generates the Python package grpc.health.v1,
    # but "grpc" is grpcio itself: extend its search path with the generated grpc/ dir.
    grpc.__path__.append(os.path.join(stubs_dir, "grpc"))
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    from jarvis.session.v1 import resources_pb2, session_service_pb2, session_service_pb2_grpc

    return health_pb2, health_pb2_grpc, resources_pb2, session_service_pb2, session_service_pb2_grpc


def grpc_target(target):
    # Jarvis writes loopback TCP addresses as tcp://host:port; gRPC wants host:port.
    return target[len("tcp://"):] if target.startswith("tcp://") else target


def run(args):
    health_pb2, health_grpc, resources_pb2, pb, session_grpc = load_stubs(args.stubs)
    metadata = [("authorization", "Bearer " + args.token)] if args.token else []
    state_name = resources_pb2.MessageState.Name

    with grpc.insecure_channel(grpc_target(args.target)) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT_SECONDS)
        except grpc.FutureTimeoutError as error:
            raise StepFailed("connect", "TIMEOUT", "cannot connect to " + args.target) from error
        session = session_grpc.SessionServiceStub(channel)
        health = health_grpc.HealthStub(channel)

        def call(step, method, request):
            """One unary call; an RPC error fails the step."""
            try:
                return method(request, timeout=CALL_TIMEOUT_SECONDS, metadata=metadata)
            except grpc.RpcError as error:
                raise StepFailed(step, error.code().name, error.details()) from error

        step = "status"
        status = call(step, session.GetStatus, pb.GetStatusRequest())
        emit(step, uid=status.uid, name=status.name, locked=status.locked)

        step = "health"
        answer = call(step, health.Check, health_pb2.HealthCheckRequest(service=""))
        serving = health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)
        if serving != "SERVING":
            raise StepFailed(step, serving, "health answered " + serving)
        emit(step, status=serving)

        step = "contacts"
        contacts = call(step, session.ListContacts, pb.ListContactsRequest()).contacts
        emit(step, contacts=[{"uid": c.uid, "name": c.name} for c in contacts])

        step = "send"
        request = pb.SendMessageRequest(conversation=args.to, text=args.text)
        sent = call(step, session.SendMessage, request).message
        emit(step, id=sent.id, state=state_name(sent.state))

        # A malformed request must be refused with INVALID_ARGUMENT, not succeed.
        step = "invalid_argument"
        try:
            call(step, session.SendMessage, pb.SendMessageRequest(conversation="", text="x"))
        except StepFailed as refused:
            if refused.code != "INVALID_ARGUMENT":
                raise
            emit(step, code=refused.code, details=refused.details)
        else:
            raise StepFailed(step, "OK", "SendMessage with an empty conversation succeeded")

        # Replay the whole event log, then stream live, until our message is DELIVERED.
        # The deadline ends the stream with DEADLINE_EXCEEDED if that never happens.
        step = "delivered"
        states = []
        stream = session.Subscribe(pb.SubscribeRequest(after_cursor=0), timeout=args.timeout, metadata=metadata)
        try:
            for event in stream:
                if event.WhichOneof("event") != "message_state_changed":
                    continue
                change = event.message_state_changed
                if change.message_id != sent.id:
                    continue
                states.append(state_name(change.state))
                if change.state == resources_pb2.MESSAGE_STATE_DELIVERED:
                    emit(step, id=sent.id, cursor=event.cursor, states=states)
                    break
            else:
                raise StepFailed(step, "ENDED", "event stream ended first; states seen: %s" % states)
        except grpc.RpcError as error:
            raise StepFailed(step, error.code().name, "%s; states seen: %s" % (error.details(), states)) from error
        finally:
            stream.cancel()

        emit("done")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, help="unix:///abs/session.sock, host:port or tcp://host:port")
    parser.add_argument("--stubs", required=True, help="directory of the generated *_pb2*.py modules")
    parser.add_argument("--to", required=True, help="contact to message (uid, prefix, alias or name)")
    parser.add_argument("--text", required=True)
    parser.add_argument("--token", help="bearer token for TCP mode (<profile>/run/token)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for DELIVERED")
    args = parser.parse_args()
    try:
        run(args)
    except StepFailed as failure:
        emit(failure.step, ok=False, code=failure.code, details=failure.details)
        sys.exit(1)


if __name__ == "__main__":
    main()
