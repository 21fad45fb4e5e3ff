# InfiniGPT container image: the single-file release binary on a minimal
# glibc base, running as a non-root user, with all state in /data.
#
#   docker build -t infinigpt .
#   mkdir data && sudo chown 65532:65532 data
#   docker run --rm -v "$PWD/data:/data" infinigpt init
#   docker run -d --name infinigpt -v "$PWD/data:/data" --env-file infinigpt.env infinigpt
#
# See docs/deployment.md.

# Stage 1: build the binary with the Deno version CI uses (.ci/run). The image
# tag without a distribution prefix is the Debian-based variant. The build
# downloads the locked npm packages and Deno's runtime, so it needs network.
ARG DENO_VERSION=2.9.6
FROM denoland/deno:${DENO_VERSION} AS build
WORKDIR /app
COPY . .
# Produces dist/infinigpt (scripts/compile_all.ts --host) with the release
# permissions baked in: read and write only the working directory.
RUN deno task compile \
 && ./dist/infinigpt version \
 && mkdir -p /out/data

# Stage 2: glibc + libgcc, no shell, no package manager; uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /app/dist/infinigpt /usr/local/bin/infinigpt
# An empty /data owned by the runtime user, so a named volume starts writable.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
# The binary may read and write only its working directory: config.json,
# the store (matrix.store_path, default "store") and images live here.
WORKDIR /data
VOLUME /data
# glibc malloc tuned for a many-threaded, bursty runtime: less memory
# (what `deno task start` sets; see docs/performance.md).
ENV MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072
# SIGTERM stops the bot gracefully (answers in progress get up to 10 s).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/infinigpt"]
CMD ["--config", "config.json"]
