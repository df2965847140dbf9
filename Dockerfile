# One image for the API, the workers, the bank and the migration step; docker-compose.yml picks the command.

# Compiles the TypeScript, bundles the pages and the workflow code into dist/ (npm run build); needs the dev tools.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package*.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY workers ./workers
COPY web ./web
RUN npm run build

# What runs: compiled JavaScript on the production dependencies only (no tsx, esbuild or embedded Postgres).
FROM node:20-bookworm-slim AS runtime
# HOST=0.0.0.0 because the config defaults to loopback, which nothing outside the container can reach.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package*.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Code and dependencies stay owned by root so the unprivileged process cannot rewrite them.
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000 3100
# Liveness only; the compose file probes /readyz for the API and overrides this for the other roles.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/server.js"]
