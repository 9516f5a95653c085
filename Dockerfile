# Build from the repository root: docker build -t otp .
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/otp ./cmd/otp

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/otp /otp
ENV OTP_HTTP_ADDR=:8001 OTP_WORKER_ADDR=:9091 OTP_ENV=production
# 8001: `serve` and `all` (webhooks, quote API, /health, /ready, /metrics);
# 9091: `work` alone (/health and /metrics of the workers).
EXPOSE 8001 9091
# `otp healthcheck` GETs /health on OTP_HTTP_ADDR; the image has no curl. A
# `work` container probes its own listener instead:
#   otp healthcheck --url http://127.0.0.1:9091/health   (compose.yaml)
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["/otp", "healthcheck"]
ENTRYPOINT ["/otp"]
CMD ["serve"]
