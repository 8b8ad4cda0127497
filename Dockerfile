# wallcast: node runs as PID 1's child of nothing else (no npm), so SIGTERM
# reaches the server and it drains gracefully.
FROM node:24-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    WALLCAST_STORE=sqlite:/data/wallcast.db
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY public ./public
COPY client ./client
COPY docs ./docs
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
EXPOSE 8080
# /readyz on the port, address and scheme the server itself reads from PORT,
# HOST and WALLCAST_TLS_CERT (so `-e PORT=9000` is checked on 9000). Set the
# port with PORT, not with a --port flag after the image name: the check sees
# only the environment.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD ["node", "deploy/healthcheck.mjs"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
