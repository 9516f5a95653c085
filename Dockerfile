# Build from the repository root:
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t otp:"$(git describe --tags --always)" .
# Base images are pinned to a release; pin them to a digest as well
# (golang:1.26.8-bookworm@sha256:...) when your registry policy asks for it.
FROM golang:1.26.8-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/otp ./cmd/otp

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="otp" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="https://github.com/erpnext-otp/otp"
COPY --from=build /out/otp /otp
ENV OTP_HTTP_ADDR=:8001 OTP_WORKER_ADDR=:9091 OTP_ENV=production
# 8001: `serve` and `all` (webhooks, quote API, /health, /ready, /metrics);
# 9091: `work` alone (/health and /metrics of the workers).
EXPOSE 8001 9091
# distroless's "nonroot" user, by number so that Kubernetes' runAsNonRoot
# can check it.
USER 65532:65532
# `otp healthcheck` GETs /health on OTP_HTTP_ADDR; the image has no curl. A
# `work` container probes its own listener instead:
#   otp healthcheck --url http://127.0.0.1:9091/health   (compose.yaml)
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/otp", "healthcheck"]
ENTRYPOINT ["/otp"]
CMD ["serve"]
