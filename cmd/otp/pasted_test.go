package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pasted is one command a document or a banner prints for a person to
// paste into a shell.
type pasted struct {
	where   string   // file:line, or the banner
	prelude []string // the variable assignments above it in the same block
	cmd     string
	// What the document says it prints: the first JSON key of the comment
	// under it, and the status code after the body (-w '%{http_code}').
	wantKey, wantCode string
}

var (
	shAssignment = regexp.MustCompile(`^(export\s+)?[A-Z][A-Z0-9_]*=`)
	commentKey   = regexp.MustCompile(`^#\s*[{\[]+"([^"]+)"`)
	commentCode  = regexp.MustCompile(`[}\]](\d{3})$`)
	fixedPort    = regexp.MustCompile(`(127\.0\.0\.1|localhost):800[01]\b`)
)

// shellComplete reports whether s has no open quote and does not end in a
// line continuation.
func shellComplete(s string) bool {
	var quote rune
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			}
		case r == '\\':
			escaped = true
		case quote == '"':
			if r == '"' {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		}
	}
	return quote == 0 && !strings.HasSuffix(strings.TrimRight(s, " "), "\\")
}

// docCommands returns the curl commands of the ```sh blocks of a Markdown
// file, each with the assignments above it in its block.
func docCommands(tb testing.TB, path string) []pasted {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	var out []pasted
	var prelude []string
	inSh := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(line, "```"):
			inSh = !inSh && (line == "```sh" || line == "```bash")
			prelude = nil
			continue
		case !inSh:
			continue
		case shAssignment.MatchString(line) && !strings.Contains(line, "...") && !strings.Contains(line, "$("):
			prelude = append(prelude, line)
			continue
		case !strings.HasPrefix(line, "curl "):
			continue
		}
		p := pasted{where: filepath.Base(path) + ":" + strconv.Itoa(i+1), prelude: append([]string(nil), prelude...), cmd: lines[i]}
		for !shellComplete(p.cmd) && i+1 < len(lines) {
			i++
			p.cmd += "\n" + lines[i]
		}
		for j := i + 1; j < len(lines) && strings.HasPrefix(strings.TrimSpace(lines[j]), "#"); j++ {
			c := strings.TrimSpace(lines[j])
			if m := commentKey.FindStringSubmatch(c); m != nil && p.wantKey == "" {
				p.wantKey = m[1]
			}
			if m := commentCode.FindStringSubmatch(c); m != nil {
				p.wantCode = m[1]
			}
		}
		out = append(out, p)
	}
	return out
}

// runPasted runs p in sh with env added, as a person pasting it would, and
// checks what it printed against what the document says.
func runPasted(t *testing.T, p pasted, env []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	script := strings.Join(append(p.prelude, p.cmd), "\n")
	cmd := exec.CommandContext(ctx, "sh", "-c", "set -e\n"+script)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	got := strings.TrimSpace(string(out))
	if err != nil {
		t.Fatalf("%s: %v\n%s\noutput: %s", p.where, err, p.cmd, got)
	}
	if got == "" {
		t.Fatalf("%s printed nothing:\n%s", p.where, p.cmd)
	}
	body := got
	if p.wantCode != "" {
		if !strings.HasSuffix(got, p.wantCode) {
			t.Errorf("%s: want status %s at the end, got %s", p.where, p.wantCode, got)
		}
		body = strings.TrimSuffix(got, p.wantCode)
	}
	if strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[") {
		if !json.Valid([]byte(body)) {
			t.Errorf("%s: printed invalid JSON: %s", p.where, body)
		}
	}
	if p.wantKey != "" && !strings.Contains(body, `"`+p.wantKey+`"`) {
		t.Errorf("%s: the document says it prints %q; got %s", p.where, p.wantKey, body)
	}
	return got
}

// bannerLines returns the lines of a banner that start with prefix,
// trimmed.
func bannerLines(banner, prefix string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(banner))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed (apt-get install curl; .ci/run installs it)")
	}
}

// freeAddr returns a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Every curl that README.md and docs/ print works when pasted, with $OTP
// and $SANDBOX from the export line `make run` prints; none hard-codes
// the default ports.
func TestDocumentedCommandsWork(t *testing.T) {
	needCurl(t)
	files, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append([]string{"../../README.md"}, files...)
	var cmds []pasted
	for _, f := range files {
		cmds = append(cmds, docCommands(t, f)...)
	}
	var runnable []pasted
	for _, p := range cmds {
		switch {
		case fixedPort.MatchString(p.cmd):
			t.Errorf("%s hard-codes a default port; use $OTP or $SANDBOX (the banner's export line):\n%s", p.where, p.cmd)
		case strings.Contains(p.cmd, "$OTP") || strings.Contains(p.cmd, "$SANDBOX"):
			runnable = append(runnable, p)
		default:
			t.Logf("%s: not run (it names no local OTP): %s", p.where, p.cmd)
		}
	}
	if len(runnable) < 4 {
		t.Fatalf("found %d curl commands to run in README.md and docs/, want at least the quote and three sandbox examples", len(runnable))
	}

	a := MustStart(t, promiseNow, map[string]string{"LOG_LEVEL": "ERROR"})
	exports := bannerLines(a.logs.String(), "export ")
	if len(exports) != 1 {
		t.Fatalf("the banner prints %d export lines, want 1:\n%s", len(exports), a.logs)
	}
	for _, p := range runnable {
		t.Run(p.where, func(t *testing.T) {
			p.prelude = append([]string{exports[0]}, p.prelude...)
			runPasted(t, p, nil)
		})
	}
}

// The curls the banners print work when pasted, on the ports the
// variables chose: `otp all`'s demo (the promise appears on the order) and
// `otp sandbox`'s Try line, with OTP_SANDBOX_ADDR honoured by both.
func TestBannerCommandsWork(t *testing.T) {
	needCurl(t)
	t.Run("otp all", func(t *testing.T) {
		httpAddr, sbAddr := freeAddr(t), freeAddr(t)
		a := MustStart(t, promiseNow, map[string]string{"OTP_HTTP_ADDR": httpAddr, "OTP_SANDBOX_ADDR": sbAddr, "LOG_LEVEL": "ERROR"})
		banner := a.logs.String()
		if want := "export OTP=http://" + httpAddr + " SANDBOX=http://" + sbAddr; !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
		curls := bannerLines(banner, "curl ")
		if len(curls) != 1 || !strings.Contains(curls[0], "http://"+sbAddr+"/") {
			t.Fatalf("banner curls %q, want one to the sandbox at %s", curls, sbAddr)
		}
		got := runPasted(t, pasted{where: "otp all banner", cmd: curls[0], wantKey: "data"}, nil)
		var body struct {
			Data []map[string]any `json:"data"`
		}
		if err := json.Unmarshal([]byte(got), &body); err != nil || len(body.Data) != 1 {
			t.Fatalf("the demo curl printed %s (%v), want one order", got, err)
		}
		if c, _ := body.Data[0]["custom_otp_confidence"].(string); c == "" {
			t.Errorf("the demo order has no promise after the curl: %s", got)
		}
	})
	t.Run("otp sandbox", func(t *testing.T) {
		addr := freeAddr(t)
		t.Setenv("OTP_SANDBOX_ADDR", addr)
		ctx, cancel := context.WithCancel(t.Context())
		out := &syncBuffer{}
		done := make(chan error, 1)
		go func() { done <- run(ctx, []string{"sandbox"}, out, &syncBuffer{}) }()
		defer func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("otp sandbox: %v", err)
			}
		}()
		waitFor(t, 5*time.Second, "the sandbox banner", func() bool { return strings.Contains(out.String(), "Stop with Ctrl-C") })
		if !strings.Contains(out.String(), "at http://"+addr+"\n") || !strings.Contains(out.String(), "export SANDBOX=http://"+addr) {
			t.Fatalf("otp sandbox ignored OTP_SANDBOX_ADDR=%s:\n%s", addr, out)
		}
		curls := bannerLines(out.String(), "curl ")
		if len(curls) != 1 {
			t.Fatalf("banner curls %q, want one", curls)
		}
		got := runPasted(t, pasted{where: "otp sandbox banner", cmd: curls[0], wantKey: "data"}, nil)
		if !strings.Contains(got, `"customer"`) || !strings.Contains(got, `"status"`) {
			t.Errorf("the Try curl printed %s, want orders with status and customer", got)
		}
	})
}

// The shell parsing the two tests above rely on.
func TestShellComplete(t *testing.T) {
	for s, want := range map[string]bool{
		`curl -s 'a b'`:                    true,
		`curl -s -d '{"a": "b`:             false,
		`curl -s \`:                        false,
		`curl -s "it's"`:                   true,
		`curl -s 'x' -d "a \" b"`:          true,
		"curl -s -d '{\"a\":\n 1}'":        true,
		`curl -s -H "$T" "$SANDBOX/x?y=1"`: true,
	} {
		if got := shellComplete(s); got != want {
			t.Errorf("shellComplete(%q) = %v, want %v", s, got, want)
		}
	}
}
