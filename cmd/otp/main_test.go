package main

import (
	"os"
	"slices"
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
