# syntax=docker/dockerfile:1
# tile38-server, tile38-cli and tile38-benchmark in one small image.
#
#   docker build -t tile38-rs .
#   docker run -p 9851:9851 -v tile38-data:/data tile38-rs
#   docker exec <container> tile38-cli INFO replication
#
# CI has no Docker engine: scripts/docker-check.sh lints this file and lays
# out the image's file tree from the binaries CI builds anyway, then starts
# the server from that tree and runs the health check against it.

FROM rust:1.95-slim-bookworm AS builder
# Release builds keep line tables for profiling; the image does not need
# them (symbol names stay for backtraces): the server shrinks from 25 to 5 MB.
ENV CARGO_PROFILE_RELEASE_STRIP=debuginfo
WORKDIR /src
COPY . .
# The cache mounts keep the registry and target dir between builds; the
# binaries are copied out of the cached target dir in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bins \
    && mkdir -p /out \
    && cp target/release/tile38-server target/release/tile38-cli target/release/tile38-benchmark /out/

FROM debian:bookworm-slim
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="tile38-rs" \
      org.opencontainers.image.description="Tile38-compatible geospatial database server, with tile38-cli and tile38-benchmark" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim"
RUN groupadd --system --gid 10001 tile38 \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin tile38 \
    && mkdir -p /data \
    && chown 10001:10001 /data
COPY --from=builder /out/tile38-server /out/tile38-cli /out/tile38-benchmark /usr/local/bin/
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9851
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["tile38-cli", "PING"]
CMD ["tile38-server", "-d", "/data", "-h", "0.0.0.0"]
