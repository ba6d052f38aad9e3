# Argus: one image, any role (`start --roles collector|writer|api`).
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund && npm cache clean --force
COPY . .
ENV ARGUS_HTTP_HOST=0.0.0.0 \
    ARGUS_FORWARD_HOST=0.0.0.0 \
    ARGUS_DATA_DIR=/var/lib/argus \
    NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64
USER node
EXPOSE 8080 24224
ENTRYPOINT ["node", "bin/argus.js"]
CMD ["start"]
