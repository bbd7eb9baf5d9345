#!/bin/sh
# Entry point of every jarvis container: makes sure the profile's run/ directory exists on the
# node's shared volume (both services put their Unix sockets there, and neither creates it),
# then replaces itself with the command so signals reach node directly.
set -eu
: "${JARVIS_HOME:?JARVIS_HOME must name the profile directory (the node's volume)}"
umask 077
mkdir -p "$JARVIS_HOME/run"
exec "$@"
