package main

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestMain lets a test run this binary as `otp`: with OTP_TEST_RUN_MAIN=1
// it is main(), with the arguments after "--" (or all of them, when there
// is no "--"), so the test sees the real process: its exit, its stderr.
func TestMain(m *testing.M) {
	if os.Getenv("OTP_TEST_RUN_MAIN") == "1" {
		args := os.Args[1:]
		if i := slices.Index(args, "--"); i >= 0 {
			args = args[i+1:]
		}
		os.Args = append([]string{"otp"}, args...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestRolesUsage: serve, work and all take no flags; a flag or an argument
// is a usage error that names the command, and -h prints the same usage.
func TestRolesUsage(t *testing.T) {
	for _, name := range []string{"serve", "work", "all"} {
		for _, tc := range []struct {
			args    []string
			wantErr error
			want    string
		}{
			{[]string{"--nope"}, errUsage, "flag provided but not defined: -nope"},
			{[]string{"extra"}, errUsage, "unexpected arguments: [extra]"},
			{[]string{"-h"}, errHelp, "usage: otp " + name + "\n"},
		} {
			stderr := &syncBuffer{}
			err := run(t.Context(), append([]string{name}, tc.args...), &syncBuffer{}, stderr)
			if !errors.Is(err, tc.wantErr) || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("otp %s %v: %v, stderr %q; want %v and %q", name, tc.args, err, stderr, tc.wantErr, tc.want)
			}
			if tc.wantErr == errUsage && !strings.Contains(stderr.String(), "usage: otp "+name+"\n") {
				t.Errorf("otp %s %v: stderr %q does not show the command's usage", name, tc.args, stderr)
			}
		}
	}
}
