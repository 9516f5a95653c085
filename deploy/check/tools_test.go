package check

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxExposure is the highest `systemd-analyze security` score the units
// may have (0 is locked down, 10 is fully exposed; 3.0 ends "OK").
const maxExposure = 3.0

var units = []string{"otp-serve.service", "otp-work.service"}

// MustUnitCopies copies the systemd units to a temporary directory with
// ExecStart pointed at an executable that exists (verify checks it).
func MustUnitCopies(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	exe, err := exec.LookPath("true")
	if err != nil {
		tb.Fatal(err)
	}
	for _, u := range units {
		b := bytes.ReplaceAll(MustRead(tb, "deploy/systemd/"+u), []byte("/usr/local/bin/otp"), []byte(exe))
		if err := os.WriteFile(filepath.Join(dir, u), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return dir
}

// systemd-analyze verify says nothing about either unit: it exits 0 on
// unknown keys, so any output fails the test.
func TestSystemdVerify(t *testing.T) {
	tool := MustTool(t, "systemd-analyze", "systemd")
	dir := MustUnitCopies(t)
	for _, u := range units {
		out, err := exec.CommandContext(t.Context(), tool, "verify", filepath.Join(dir, u)).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", u, err, out)
		}
	}
}

var exposure = regexp.MustCompile(`Overall exposure level for \S+: (\d+\.\d+)`)

// Each unit's exposure is at most maxExposure.
func TestSystemdSecurity(t *testing.T) {
	tool := MustTool(t, "systemd-analyze", "systemd")
	dir := MustUnitCopies(t)
	for _, u := range units {
		cmd := exec.CommandContext(t.Context(), tool, "security", "--offline=yes", "--no-pager", filepath.Join(dir, u))
		out, err := cmd.CombinedOutput()
		m := exposure.FindSubmatch(out)
		if m == nil {
			t.Fatalf("systemd-analyze security %s: no score (%v; --offline needs systemd 250 or later):\n%s", u, err, out)
		}
		score, _ := strconv.ParseFloat(string(m[1]), 64)
		t.Logf("%s: exposure %.1f", u, score)
		if score > maxExposure {
			t.Errorf("%s: exposure %.1f, want at most %.1f:\n%s", u, score, maxExposure, out)
		}
	}
}

// nginx -t accepts deploy/nginx/otp.conf inside a minimal nginx.conf, with
// a throwaway certificate where the file expects the real one.
func TestNginxConfig(t *testing.T) {
	nginx := MustTool(t, "nginx", "nginx-light")
	dir := t.TempDir()
	writeSelfSigned(t, filepath.Join(dir, "fullchain.pem"), filepath.Join(dir, "privkey.pem"))
	conf := strings.ReplaceAll(string(MustRead(t, "deploy/nginx/otp.conf")), "/etc/nginx/tls/", dir+"/")
	if err := os.WriteFile(filepath.Join(dir, "otp.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\nevents {}\nhttp {\n" +
		"    access_log off;\n    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir + "/proxy;\n" +
		"    include " + dir + "/otp.conf;\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), nginx, "-t", "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	if err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "[warn]") {
		t.Errorf("nginx -t warns:\n%s", out)
	}
	// The body limit is OTP's (server.MaxBodyBytes, 1 MiB).
	if !regexp.MustCompile(`(?m)^\s*client_max_body_size 1m;`).MatchString(conf) {
		t.Error("otp.conf: client_max_body_size is not OTP's 1m")
	}
	for _, h := range []string{"X-Request-ID", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"} {
		if !strings.Contains(conf, "proxy_set_header "+h+" ") {
			t.Errorf("otp.conf does not pass %s", h)
		}
	}
}

func writeSelfSigned(tb testing.TB, certPath, keyPath string) {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otp.example.com"},
		DNSNames: []string{"otp.example.com"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// Every shell script of the repository is shellcheck-clean.
func TestShellcheck(t *testing.T) {
	tool := MustTool(t, "shellcheck", "shellcheck")
	scripts, err := filepath.Glob(filepath.Join(repo, "scripts", "*.sh"))
	if err != nil {
		t.Fatal(err)
	}
	scripts = append(scripts, filepath.Join(repo, ".ci", "run"), filepath.Join(repo, "deploy", "load", "run.sh"))
	if len(scripts) < 7 {
		t.Fatalf("found %v, want scripts/*.sh, .ci/run and deploy/load/run.sh", scripts)
	}
	var rel []string
	for _, s := range scripts {
		r, err := filepath.Rel(repo, s)
		if err != nil {
			t.Fatal(err)
		}
		rel = append(rel, r)
	}
	// From the repository's top, where the scripts' source directives point.
	cmd := exec.CommandContext(t.Context(), tool, append([]string{"-x"}, rel...)...)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck %v: %v\n%s", rel, err, out)
	}
}
