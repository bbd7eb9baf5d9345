#!/usr/bin/python3
"""A Jarvis client in Python, written only from proto/ (stubs by protoc + grpc_python_plugin).

  jarvis_client.py --target unix:///HOME/.jarvis/run/session.sock --stubs STUBS \\
      --to CONTACT --text TEXT [--password-env VAR] [--token TOKEN] \\
      [--cursor-file FILE] [--expect-text REPLY] [--timeout SECONDS]

It unlocks the node if it is locked (password from the environment variable --password-env),
checks health, lists contacts, sends TEXT to CONTACT, shows the error detail of a bad request,
then follows Subscribe until the message is DELIVERED (and, with --expect-text, until a message
with that text arrives). The last processed event cursor is kept in --cursor-file: when the
stream breaks (the session service restarted, say) the client reconnects and resumes after
that cursor, so it misses nothing and sees nothing twice.

--target: unix:///abs/path, host:port, or Jarvis's tcp://host:port (from <profile>/run/ipc.json).
--token: TCP mode's bearer token (<profile>/run/token), sent as "authorization: Bearer TOKEN".

Output: one JSON line per step, {"step": NAME, ...}: status, unlock (if it was locked), health,
contacts, send, invalid_argument, delivered, resubscribe (after each reconnect), received (with
--expect-text), done. The first failing step prints {"step": NAME, "ok": false, "code", "details"}
and the client exits 1.
"""

import argparse
import json
import os
import sys
import time

import grpc

CALL_TIMEOUT_SECONDS = 10
# Reconnect backoff after a broken Subscribe stream: 0.2 s doubling to 2 s.
RECONNECT_FIRST_S, RECONNECT_MAX_S = 0.2, 2.0


class StepFailed(Exception):
    def __init__(self, step, code, details):
        super().__init__(details)
        self.step, self.code, self.details = step, code, details


def emit(step, **fields):
    print(json.dumps({"step": step, **fields}), flush=True)


def load_stubs(stubs_dir):
    """Makes the generated modules importable and returns them as a namespace."""
    sys.path.insert(0, stubs_dir)
    # proto/grpc/... generates the Python package grpc.health.v1, but "grpc" is grpcio itself:
    # extend its search path with the generated grpc/ directory.
    grpc.__path__.append(os.path.join(stubs_dir, "grpc"))
    from google.rpc import error_details_pb2, status_pb2
    from grpc.health.v1 import health_pb2, health_pb2_grpc
    from jarvis.session.v1 import resources_pb2, session_service_pb2, session_service_pb2_grpc

    return argparse.Namespace(health=health_pb2, health_grpc=health_pb2_grpc, res=resources_pb2, pb=session_service_pb2,
                              session_grpc=session_service_pb2_grpc, status=status_pb2, details=error_details_pb2)


def error_reason(stubs, error):
    """The stable Jarvis error code: google.rpc.ErrorInfo.reason from grpc-status-details-bin."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = stubs.status.Status.FromString(value)
            for detail in status.details:
                info = stubs.details.ErrorInfo()
                if detail.Unpack(info) and info.domain == "jarvis":
                    return info.reason
    return None


class Cursor:
    """The last fully processed event cursor, persisted so a restart resumes after it."""

    def __init__(self, path):
        self.path = path
        self.value = int(open(path).read().strip() or 0) if path and os.path.exists(path) else 0

    def advance(self, cursor):
        self.value = cursor
        if self.path:
            tmp = self.path + ".tmp"
            with open(tmp, "w") as f:
                f.write(str(cursor))
            os.replace(tmp, self.path)


def follow(stubs, channel_factory, metadata, cursor, sent_id, expect_text, deadline, unlock):
    """Subscribe after the cursor; on a broken stream reconnect (unlocking a node that came back
    locked) and resume. Ends when our message is delivered and the expected text received."""
    delivered, received, states, seen = False, expect_text is None, [], set()
    delay, first = RECONNECT_FIRST_S, True
    while not (delivered and received):
        if time.monotonic() > deadline:
            raise StepFailed("follow", "DEADLINE_EXCEEDED", "states of our message: %s" % states)
        if not first:
            emit("resubscribe", after_cursor=cursor.value)
        first = False
        channel = channel_factory()
        try:
            session = stubs.session_grpc.SessionServiceStub(channel)
            stream = session.Subscribe(stubs.pb.SubscribeRequest(after_cursor=cursor.value),
                                       timeout=max(0.1, deadline - time.monotonic()), metadata=metadata)
            for event in stream:
                delay = RECONNECT_FIRST_S
                if event.cursor in seen:
                    raise StepFailed("follow", "DUPLICATE", "event %d delivered twice" % event.cursor)
                seen.add(event.cursor)
                kind = event.WhichOneof("event")
                if kind == "message_state_changed" and event.message_state_changed.message_id == sent_id:
                    states.append(stubs.res.MessageState.Name(event.message_state_changed.state))
                    if event.message_state_changed.state == stubs.res.MESSAGE_STATE_DELIVERED and not delivered:
                        delivered = True
                        emit("delivered", id=sent_id, cursor=event.cursor, states=states)
                elif kind == "message_received" and event.message_received.message.text == expect_text and not received:
                    received = True
                    emit("received", id=event.message_received.message.id, cursor=event.cursor)
                cursor.advance(event.cursor)  # after processing: at-least-once, never lost
                if delivered and received:
                    stream.cancel()
                    break
        except grpc.RpcError as error:
            code = error.code()
            if code == grpc.StatusCode.DEADLINE_EXCEEDED:
                raise StepFailed("follow", code.name, "states of our message: %s" % states) from error
            if code == grpc.StatusCode.CANCELLED and delivered and received:
                break
            if code == grpc.StatusCode.FAILED_PRECONDITION and error_reason(stubs, error) == "locked":
                unlock(channel)
            # UNAVAILABLE (service restarting), FAILED_PRECONDITION (not unlocked yet), …: retry.
            time.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)
        finally:
            channel.close()


def run(args):
    stubs = load_stubs(args.stubs)
    pb = stubs.pb
    metadata = [("authorization", "Bearer " + args.token)] if args.token else []

    def unlock(channel):
        password = os.environ.get(args.password_env or "", "")
        if not password:
            raise StepFailed("unlock", "LOCKED", "the node is locked; set %s" % (args.password_env or "--password-env"))
        try:
            stub = stubs.session_grpc.SessionServiceStub(channel)
            identity = stub.Unlock(pb.UnlockRequest(password=password), timeout=CALL_TIMEOUT_SECONDS, metadata=metadata).identity
        except grpc.RpcError as error:
            raise StepFailed("unlock", error_reason(stubs, error) or error.code().name, error.details()) from error
        emit("unlock", uid=identity.uid)

    target = args.target[len("tcp://"):] if args.target.startswith("tcp://") else args.target
    deadline = time.monotonic() + args.timeout

    with grpc.insecure_channel(target) as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=CALL_TIMEOUT_SECONDS)
        except grpc.FutureTimeoutError as error:
            raise StepFailed("connect", "TIMEOUT", "cannot connect to " + args.target) from error
        session = stubs.session_grpc.SessionServiceStub(channel)
        health = stubs.health_grpc.HealthStub(channel)

        def call(step, method, request):
            try:
                return method(request, timeout=CALL_TIMEOUT_SECONDS, metadata=metadata)
            except grpc.RpcError as error:
                raise StepFailed(step, error.code().name, error.details()) from error

        status = call("status", session.GetStatus, pb.GetStatusRequest())
        emit("status", uid=status.uid, name=status.name, locked=status.locked)
        if status.locked:
            unlock(channel)

        answer = call("health", health.Check, stubs.health.HealthCheckRequest(service="jarvis.session.v1.SessionService"))
        serving = stubs.health.HealthCheckResponse.ServingStatus.Name(answer.status)
        if serving != "SERVING":
            raise StepFailed("health", serving, "health answered " + serving)
        emit("health", status=serving)

        contacts = call("contacts", session.ListContacts, pb.ListContactsRequest()).contacts
        emit("contacts", contacts=[{"uid": c.uid, "name": c.name} for c in contacts])

        sent = call("send", session.SendMessage, pb.SendMessageRequest(conversation=args.to, text=args.text)).message
        emit("send", id=sent.id, state=stubs.res.MessageState.Name(sent.state))

        # A bad request is refused with INVALID_ARGUMENT and a reason a program can branch on.
        try:
            session.SendMessage(pb.SendMessageRequest(conversation=args.to, text=""), timeout=CALL_TIMEOUT_SECONDS, metadata=metadata)
            raise StepFailed("invalid_argument", "OK", "SendMessage with empty text succeeded")
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.INVALID_ARGUMENT:
                raise StepFailed("invalid_argument", error.code().name, error.details()) from error
            emit("invalid_argument", code=error.code().name, reason=error_reason(stubs, error), details=error.details())

    follow(stubs, lambda: grpc.insecure_channel(target), metadata, Cursor(args.cursor_file), sent.id, args.expect_text, deadline, unlock)
    emit("done")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target", required=True, help="unix:///abs/session.sock, host:port or tcp://host:port")
    parser.add_argument("--stubs", required=True, help="directory of the generated *_pb2*.py modules")
    parser.add_argument("--to", required=True, help="contact to message (uid, prefix, alias or name)")
    parser.add_argument("--text", required=True)
    parser.add_argument("--token", help="bearer token for TCP mode (<profile>/run/token)")
    parser.add_argument("--password-env", help="environment variable holding the password, used if locked")
    parser.add_argument("--cursor-file", help="where the last processed event cursor is kept")
    parser.add_argument("--expect-text", help="also wait for an incoming message with this text")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds for the whole run")
    args = parser.parse_args()
    try:
        run(args)
    except StepFailed as failure:
        emit(failure.step, ok=False, code=failure.code, details=failure.details)
        sys.exit(1)


if __name__ == "__main__":
    main()
