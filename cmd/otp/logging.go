package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// newLogger returns the JSON logger every part of OTP logs through.
func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

// asynqLogger adapts slog to asynq.Logger, whose methods take Println-style
// arguments.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) log(level slog.Level, args []any) {
	a.l.Log(context.Background(), level, fmt.Sprint(args...), "source", "asynq")
}

func (a asynqLogger) Debug(args ...any) { a.log(slog.LevelDebug, args) }
func (a asynqLogger) Info(args ...any)  { a.log(slog.LevelInfo, args) }
func (a asynqLogger) Warn(args ...any)  { a.log(slog.LevelWarn, args) }
func (a asynqLogger) Error(args ...any) { a.log(slog.LevelError, args) }

// Fatal is what asynq calls when it cannot go on; it exits like log.Fatal.
func (a asynqLogger) Fatal(args ...any) {
	a.log(slog.LevelError+4, args)
	os.Exit(1)
}
