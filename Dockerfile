# One image for the gateway, the runner and the projector; docker-compose.yml chooses the
# command of each. tsx runs the TypeScript as it is (there is no build step), so the
# image keeps the dev dependencies too.
FROM node:20-bookworm-slim

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
CMD ["node", "--import", "tsx", "services/gateway/src/main.ts"]
