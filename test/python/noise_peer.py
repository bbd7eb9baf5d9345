#!/usr/bin/python3
"""Noise_XX_25519_ChaChaPoly_BLAKE2b peer built on dissononce, for interop tests.

Run it with Debian's /usr/bin/python3 (package python3-dissononce). Every Noise
message travels over TCP as a 2-byte big-endian length followed by the message.

Conversation, after the three XX handshake messages:
  initiator -> responder   transport message 1 (the initiator's greeting)
  responder -> initiator   transport message 2 (the responder's reply)

Handshake payloads are fixed so the other side can check them: this peer sends
b"python handshake payload <n>" with message n (1-based) it writes.
As initiator it greets with b"ping from python"; as responder it replies
b"pong from python: " + the greeting it received.

Output, one line each on stdout (hex is lowercase):
  LISTENING <port>                 responder only, once it is accepting
  HANDSHAKE_PAYLOAD <n> <hex>      for each handshake message n it read
  REMOTE_STATIC <hex>
  HANDSHAKE_HASH <hex>
  RECEIVED <hex>                   the transport plaintext it read
  DONE
Errors go to stderr with a non-zero exit status.
"""

import argparse
import socket
import struct
import sys

from dissononce.cipher.chachapoly import ChaChaPolyCipher
from dissononce.dh.x25519.private import PrivateKey
from dissononce.dh.x25519.x25519 import X25519DH
from dissononce.hash.blake2b import Blake2bHash
from dissononce.processing.handshakepatterns.interactive.XX import XXHandshakePattern
from dissononce.processing.impl.cipherstate import CipherState
from dissononce.processing.impl.handshakestate import HandshakeState
from dissononce.processing.impl.symmetricstate import SymmetricState

MAX_MESSAGE_LENGTH = 65535
# Bounds every blocking socket call so a stuck peer cannot hang the test run.
SOCKET_TIMEOUT_SECONDS = 10


def emit(label, value=None):
    print(label if value is None else "%s %s" % (label, value), flush=True)


def read_exactly(sock, length):
    buffer = bytearray()
    while len(buffer) < length:
        chunk = sock.recv(length - len(buffer))
        if not chunk:
            raise ConnectionError("peer closed the connection mid-frame")
        buffer.extend(chunk)
    return bytes(buffer)


def read_frame(sock):
    (length,) = struct.unpack(">H", read_exactly(sock, 2))
    if length == 0:
        raise ValueError("zero-length frame")
    return read_exactly(sock, length)


def write_frame(sock, message):
    if not 0 < len(message) <= MAX_MESSAGE_LENGTH:
        raise ValueError("message length %d cannot be framed" % len(message))
    sock.sendall(struct.pack(">H", len(message)) + message)


def new_handshake(initiator, static_private, prologue):
    dh = X25519DH()
    handshake = HandshakeState(SymmetricState(CipherState(ChaChaPolyCipher()), Blake2bHash()), dh)
    static = dh.generate_keypair(PrivateKey(static_private))
    handshake.initialize(XXHandshakePattern(), initiator, prologue, s=static)
    if handshake.protocol_name != "Noise_XX_25519_ChaChaPoly_BLAKE2b":
        raise RuntimeError("unexpected protocol name " + handshake.protocol_name)
    return handshake


def run_handshake(sock, handshake, initiator):
    """Performs the three XX messages; returns (send_cipher, receive_cipher)."""
    result = None
    for index in range(3):
        our_turn = (index % 2 == 0) == initiator
        if our_turn:
            message = bytearray()
            payload = b"python handshake payload %d" % (index + 1)
            result = handshake.write_message(payload, message)
            write_frame(sock, bytes(message))
        else:
            payload = bytearray()
            result = handshake.read_message(read_frame(sock), payload)
            emit("HANDSHAKE_PAYLOAD", "%d %s" % (index + 1, bytes(payload).hex()))
    if result is None:
        raise RuntimeError("handshake did not produce transport ciphers")
    initiator_to_responder, responder_to_initiator = result
    if initiator:
        return initiator_to_responder, responder_to_initiator
    return responder_to_initiator, initiator_to_responder


def converse(sock, handshake, initiator):
    send, receive = run_handshake(sock, handshake, initiator)
    emit("REMOTE_STATIC", handshake.rs.data.hex())
    emit("HANDSHAKE_HASH", handshake.symmetricstate.get_handshake_hash().hex())
    if initiator:
        write_frame(sock, send.encrypt_with_ad(b"", b"ping from python"))
        emit("RECEIVED", receive.decrypt_with_ad(b"", read_frame(sock)).hex())
    else:
        greeting = receive.decrypt_with_ad(b"", read_frame(sock))
        emit("RECEIVED", greeting.hex())
        write_frame(sock, send.encrypt_with_ad(b"", b"pong from python: " + greeting))
    emit("DONE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("initiator", "responder"), required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="port to connect to (initiator) or bind (responder; 0 = any)")
    parser.add_argument("--static-private", required=True, help="32-byte X25519 private key, hex")
    parser.add_argument("--prologue", default="", help="prologue bytes, hex")
    args = parser.parse_args()

    static_private = bytes.fromhex(args.static_private)
    if len(static_private) != 32:
        parser.error("--static-private must be 32 bytes of hex")
    initiator = args.role == "initiator"
    handshake = new_handshake(initiator, static_private, bytes.fromhex(args.prologue))

    if initiator:
        with socket.create_connection((args.host, args.port), timeout=SOCKET_TIMEOUT_SECONDS) as sock:
            converse(sock, handshake, True)
        return

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind((args.host, args.port))
        server.listen(1)
        server.settimeout(SOCKET_TIMEOUT_SECONDS)
        emit("LISTENING", server.getsockname()[1])
        connection, _ = server.accept()
        with connection:
            connection.settimeout(SOCKET_TIMEOUT_SECONDS)
            converse(connection, handshake, False)


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # report any failure in one line for the test log
        print("ERROR %s: %s" % (type(error).__name__, error), file=sys.stderr, flush=True)
        sys.exit(1)
