package main

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// newTracerProvider returns OpenTelemetry's SDK exporting over OTLP/HTTP
// when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads that and the
// other OTEL_EXPORTER_OTLP_* variables itself), else the no-op provider,
// whose spans cost nothing. shutdown flushes the spans not yet sent.
func newTracerProvider(ctx context.Context, endpoint, version string) (tp trace.TracerProvider, shutdown func(context.Context) error, err error) {
	if endpoint == "" {
		return noop.NewTracerProvider(), func(context.Context) error { return nil }, nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	sdk := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName("otp"), semconv.ServiceVersion(version))),
	)
	return sdk, sdk.Shutdown, nil
}
