# syntax=docker/dockerfile:1

# Builds the gateway image:
#   docker build --build-arg VERSION=v0.1.0 -t groundcam-gateway:v0.1.0 .
# The build stage runs on the builder's own platform and cross-compiles for
# the target, so multi-platform builds (docker buildx --platform) need no
# emulation.
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
WORKDIR /src

# Download modules in their own layer so that source edits reuse it.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" \
      -o /out/gateway ./cmd/gateway

# distroless/static has CA certificates, tzdata and user entries, but no
# shell or package manager.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="groundcam-gateway" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/gateway /gateway

# Bind all interfaces inside the container, because the gateway's own
# defaults are loopback only.
ENV GATEWAY_LISTEN_ADDR=0.0.0.0:8080 \
    GATEWAY_ADMIN_ADDR=0.0.0.0:9090
# 8080: Connect, gRPC, gRPC-Web and REST (HTTP/1.1 and h2c).
# 9090: admin, Prometheus /metrics.
EXPOSE 8080 9090
# A numeric user lets the kubelet verify runAsNonRoot.
USER 65532:65532
ENTRYPOINT ["/gateway"]
