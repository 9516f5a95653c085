package check

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// repo is the repository's top, relative to this package.
const repo = "../.."

// MustRead reads a file of the repository.
func MustRead(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repo, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustTool returns the path of a command-line tool, or skips the test
// naming the package .ci/run installs it from.
func MustTool(tb testing.TB, name, debianPackage string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		tb.Skipf("%s is not installed: skipping (CI installs it: apt-get install %s)", name, debianPackage)
	}
	return p
}
