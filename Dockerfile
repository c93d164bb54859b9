# chatstorm as a container, run like grafana/k6:
#
#   docker build -t chatstorm .
#   docker run --rm -v "$PWD/my-scenario.mts:/scenario.mts:ro" -v "$PWD/reports:/results" \
#     chatstorm run /scenario.mts --target ws://my-chat-server:7420 --out /results
#
# A mounted scenario is an ES module with its own `export default { ... }` (see
# deploy/k8s/configmap.yaml); the bundled ones are in /app/scenarios (`run /app/scenarios/demo.ts`).
# Stage 1 installs the production dependencies (better-sqlite3 is native: build tools are here
# for the case where no prebuilt binary matches); stage 2 is the runtime, without them, as the
# unprivileged `node` user. The TypeScript sources run through tsx, as `npm start` does: there is
# no build step. Scenario and driver files are mounted (or COPY'd into an image built FROM this).

FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY scenarios ./scenarios
# `chatstorm` on the PATH for `sh -c` commands (the Kubernetes Job), and a results folder the
# unprivileged user owns.
RUN ln -s /app/bin/chatstorm.js /usr/local/bin/chatstorm \
 && mkdir -p /results \
 && chown node:node /results
USER node
WORKDIR /results
EXPOSE 7420
ENTRYPOINT ["node", "/app/bin/chatstorm.js"]
CMD ["--help"]
