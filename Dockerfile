# syntax=docker/dockerfile:1
# Jarvis node image: one image, roles chosen by the command: the network service, or the
# supervisor (`jarvis daemon`) running the session (with --network-ipc) or the whole node.
# Build stage compiles the native modules (better-sqlite3-multiple-ciphers, argon2) and the
# TypeScript; the runtime stage gets only production dependencies and compiled output.

FROM node:20.20.2-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Manifests first so the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY packages/proto/package.json packages/proto/
COPY packages/core/package.json packages/core/
COPY packages/rpc/package.json packages/rpc/
COPY services/network/package.json services/network/
COPY services/session/package.json services/session/
COPY clients/cli/package.json clients/cli/
COPY clients/tui/package.json clients/tui/
# --ignore-scripts: "prepare" would build before the sources are here; the native modules are
# then built explicitly (no prebuilt download: they compile from source).
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3-multiple-ciphers argon2
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY services services
COPY clients clients
COPY docker docker
RUN npx tsc -b \
 && npm prune --omit=dev --ignore-scripts \
 && find packages services clients -name '*.ts' ! -name '*.d.ts' -delete \
 && find packages services clients -name '*.tsbuildinfo' -delete

FROM node:20.20.2-bookworm-slim AS runtime
ENV NODE_ENV=production \
    JARVIS_HOME=/data \
    JARVIS_LOG_LEVEL=info
WORKDIR /app
COPY --from=build --chown=root:root /app /app
# The profile lives on a volume; an empty named volume takes this directory's owner, so the
# non-root user can write it.
RUN mkdir -p /data/run /codes && chown -R node:node /data /codes && chmod 700 /data
USER node
VOLUME ["/data"]
EXPOSE 7000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
# Default: the whole node under its supervisor (crashed services restart, the session unlocked).
CMD ["node", "clients/cli/bin/jarvis.js", "daemon"]
# Healthy once the session is unlocked and connected to its network service.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "docker/health.js", "session"]
