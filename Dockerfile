# syntax=docker/dockerfile:1
# Build stage: compile TypeScript and the better-sqlite3 native addon.
FROM node:20-slim AS build
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.prod.json ./
COPY src ./src
# Only the product: benchmarks and test harnesses stay out of the image.
RUN npx tsc -p tsconfig.prod.json && npm prune --omit=dev

# Runtime stage: only the compiled code, production dependencies and the default config.
# The container listens on all addresses; set the SIP server it guards with SIPWARDEN_UPSTREAM=host:port
# and the address clients and that server reach the sidecar at with SIPWARDEN_ADVERTISED_HOST.
FROM node:20-slim
ENV NODE_ENV=production \
    SIPWARDEN_DB=/var/lib/sipwarden/sipwarden.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY config ./config
RUN mkdir -p /var/lib/sipwarden && chown node:node /var/lib/sipwarden \
    && chmod +x /app/dist/src/cli/bin.js && ln -s /app/dist/src/cli/bin.js /usr/local/bin/sipwarden
USER node
VOLUME ["/var/lib/sipwarden"]
# SIP over UDP and TCP, SIP over WebSocket (RFC 7118).
EXPOSE 5060/udp 5060/tcp 8088/tcp
# Liveness from inside the container: the admin listener (loopback 127.0.0.1:9060 by default)
# answers /healthz while the event loop runs. Not /readyz: an upstream SIP server that is down
# must take the sidecar out of the load balancer (readiness), not get it restarted.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:9060/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/dist/src/cli/bin.js"]
CMD ["serve", "--config", "/app/config/docker.json"]
