# syntax=docker/dockerfile:1
# credits-server in a small image: built in a Rust image, run in Debian slim as a non-root user.
# `docker build -t credits-server .`; configuration by environment (README, "Deploying").

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p credits-server --bin credits-server

FROM debian:bookworm-slim
# CA certificates: the server calls Stripe over TLS.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/credits credits
COPY --from=build /src/target/release/credits-server /usr/local/bin/credits-server
USER 10001
WORKDIR /var/lib/credits
ENV CREDITS_BIND=0.0.0.0:8080 \
    DATABASE_URL=sqlite:///var/lib/credits/data/credits.db \
    CREDITS_LOG_FORMAT=json
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/credits-server"]
CMD ["serve"]
