# One image for the gateway, the runner and the projector; docker-compose.yml chooses the
# command of each. Node runs the TypeScript as it is (type stripping: there is no build
# step). Node 24 LTS, the release the project is tested on (scripts/node-env.sh pins the
# patch for machines without it).
FROM node:24-bookworm-slim

# corepack would download pnpm when first used; install the pinned version once instead.
RUN npm install -g pnpm@10.34.9 && npm cache clean --force

WORKDIR /app
RUN chown node:node /app
USER node

# Dependencies from the lockfile alone, so this layer is rebuilt only when it changes
# (with the patches pnpm applies to some of them: pnpm fetch refuses to run without).
COPY --chown=node:node pnpm-lock.yaml pnpm-workspace.yaml ./
COPY --chown=node:node patches ./patches
RUN pnpm fetch

COPY --chown=node:node . .
RUN pnpm install --frozen-lockfile --offline

ENV NODE_ENV=production
EXPOSE 3000
CMD ["node", "services/gateway/src/main.ts"]
