# syntax=docker/dockerfile:1
# rpa-assistant: one image for every role (ROLE=all | web | worker; docs/notes/scaleout.md).
# tsx (the dev-time TypeScript runner behind `npm start`) is a devDependency: the build stage
# compiles src/ and migrations/ to plain JavaScript with tsc (`npm run build`), so the runtime
# image runs `node src/main.js` on production dependencies only (`npm ci --omit=dev`).

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts stay off, as in development (package.json "allowScripts").
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY deploy/tsconfig.build.json deploy/
COPY src src
COPY migrations migrations
RUN npm run build \
 && cd src && find . \( -name '*.json' -o -name '*.mjs' \) -exec cp --parents {} ../dist/src/ \;

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3978 \
    DATA_DIR=/app/data \
    MODEL_DIR=/app/models/intent-gpt2
# A larger young generation (V8's default semi-space is 16 MB): half the scavenges per turn and
# about half the GC pause time under load (docs/configuration.md, docs/notes/turntail.md). Only
# read at start-up, so it is set here, not by the server; `-e NODE_OPTIONS=…` replaces it.
ENV NODE_OPTIONS="--max-semi-space-size=32"
WORKDIR /app
COPY --from=deps /app/node_modules node_modules
COPY --from=build /app/dist/src src
COPY --from=build /app/dist/migrations migrations
COPY package.json ./
COPY static static
COPY appPackage appPackage
# The intent model ships in the image (23 MB): a pod needs no volume to answer.
COPY models/intent-gpt2 models/intent-gpt2
RUN mkdir -p /app/data && chown node:node /app/data
# The node image's unprivileged user (uid 1000).
USER node
EXPOSE 3978
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3978)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# No shell and no npm in between: SIGTERM reaches the server, which drains (SHUTDOWN_TIMEOUT_MS).
CMD ["node", "src/main.js"]
