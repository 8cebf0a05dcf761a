# syntax=docker/dockerfile:1
#
#   docker build --build-arg VERSION="$(git describe --tags)" \
#       --build-arg COMMIT="$(git rev-parse HEAD)" -t netpanel .
#   docker run --rm --network host --cap-drop ALL --cap-add NET_ADMIN netpanel
#
# netpanel manages the host's links, addresses, routes and rules over netlink, so
# it must run in the host network namespace (--network host) and as root with
# CAP_NET_ADMIN: a nonroot user would hold no capabilities (distroless has no
# setcap, and file capabilities do not survive every storage driver). Drop all
# other capabilities (add CHOWN when a directory you mount for saves holds
# files of other groups: the README's capability table says what each is for).
# The default --listen stays on loopback; pass your own arguments to change
# it, e.g. `docker run … netpanel --listen 127.0.0.1:9090`.

# Browser assets: only the npm tree is needed from this stage.
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# The same three files `make vendor` copies; static/static.go embeds them.
COPY --from=assets /src/node_modules/htmx.org/dist/htmx.min.js static/vendor/
COPY --from=assets /src/node_modules/uplot/dist/uPlot.iife.min.js /src/node_modules/uplot/dist/uPlot.min.css static/vendor/
# .git is not in the context (.dockerignore), so Go stamps no commit:
# `netpanel --version` prints what these say.
ARG VERSION=
ARG COMMIT=
RUN go build -trimpath -ldflags="-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/netpanel ./cmd/netpanel

# No ip binary needed: netpanel speaks netlink itself.
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/netpanel /netpanel
USER 0:0
EXPOSE 8080
ENTRYPOINT ["/netpanel"]
CMD ["--listen", "127.0.0.1:8080"]
