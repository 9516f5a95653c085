// Command otp is the Order Promise Engine for ERPNext: one binary whose
// subcommands run the HTTP server, the workers, both, the ERPNext sandbox,
// and small operator tools.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// version is set at build time (-ldflags "-X main.version=...").
var version = "dev"

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands is the dispatch table. `promise` and `migrate` are added here by
// their packages' owners.
var commands = map[string]command{
	"serve":       {"run the HTTP server: webhooks, health, metrics, dashboard", runRoles("serve", roleServe)},
	"work":        {"run the workers and the periodic reconcile", runRoles("work", roleWork)},
	"all":         {"run the HTTP server and the workers in one process", runRoles("all", roleServe|roleWork)},
	"sandbox":     {"run the in-memory ERPNext sandbox with demo data", runSandbox},
	"healthcheck": {"GET /health of a running otp; exit 0 when it answers 200", runHealthcheck},
	"promise":     {"compute one Sales Order's promise and print it; --apply writes it", runPromise},
	"migrate":     {"set up ERPNext for OTP: custom fields and webhooks (up, down, status, check)", runMigrate},
	"report":      {"report accuracy: how often promises were kept, from ERPNext's deliveries", runReport},
	"version":     {"print the version", runVersion},
}

// errUsage is returned for a bad command line; main exits 2.
var errUsage = errors.New("usage")

// errHelp is returned when -h or --help asked for a command's usage, which
// was printed; main exits 0.
var errHelp = errors.New("help requested")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, errHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "otp:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "otp: unknown command %q\n\n", args[0])
		usage(stderr)
		return errUsage
	}
	return cmd.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("usage: otp <command> [flags]\n\ncommands:\n")
	for _, name := range names {
		fmt.Fprintf(&b, "  %-12s %s\n", name, commands[name].summary)
	}
	b.WriteString("\nConfiguration is read from the environment; see README.md.\n")
	io.WriteString(w, b.String())
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stderr, "usage: otp version")
		return errHelp
	}
	if len(args) > 0 {
		return fmt.Errorf("version takes no arguments: %w", errUsage)
	}
	fmt.Fprintln(stdout, "otp", version)
	return nil
}

// newFlags returns a flag set that reports errors to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("otp "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, mapping -h to errHelp and bad flags to errUsage.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "unexpected arguments: %v\n", fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}

// flagError maps an error of flag.FlagSet.Parse: -h (usage printed) to
// errHelp, anything else to errUsage.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return errHelp
	}
	return fmt.Errorf("%v: %w", err, errUsage)
}
