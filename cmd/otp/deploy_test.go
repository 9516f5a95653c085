package main

// deploy/ must match the binary: its subcommands, the variables config
// reads, the default ports, and the endpoints each role answers. These
// tests read the repository's deploy/ files and check them against a
// running OTP.

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"go.yaml.in/yaml/v4"

	"github.com/erpnext-otp/otp/config"
	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/tasks"
)

const deployDir = "../../deploy"

// The Dockerfile and compose.yaml stand at the repository's top (README.md#operate);
// the names are relative to deployDir.
const (
	dockerfile  = "../Dockerfile"
	composeYAML = "../compose.yaml"
)

// composeFile is what these tests read of compose.yaml.
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Image       string            `yaml:"image"`
	Build       any               `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`
	Expose      []string          `yaml:"expose"`
	Healthcheck struct {
		Test    []string `yaml:"test"`
		Disable bool     `yaml:"disable"`
	} `yaml:"healthcheck"`
}

// k8sObject is what these tests read of a Kubernetes object.
type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data map[string]string `yaml:"data"`
	Spec struct {
		Selector struct {
			MatchLabels map[string]string `yaml:"matchLabels"`
		} `yaml:"selector"`
		Template struct {
			Metadata struct {
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"metadata"`
			Spec struct {
				Containers []k8sContainer `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

type k8sContainer struct {
	Args  []string `yaml:"args"`
	Ports []struct {
		ContainerPort int    `yaml:"containerPort"`
		Name          string `yaml:"name"`
	} `yaml:"ports"`
	StartupProbe   *k8sProbe `yaml:"startupProbe"`
	LivenessProbe  *k8sProbe `yaml:"livenessProbe"`
	ReadinessProbe *k8sProbe `yaml:"readinessProbe"`
}

type k8sProbe struct {
	HTTPGet *struct {
		Path string `yaml:"path"`
		Port string `yaml:"port"` // a port name (numbers are written as names here)
	} `yaml:"httpGet"`
}

// port returns the container port named name (or written as a number).
func (c k8sContainer) port(name string) int {
	for _, p := range c.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	n, _ := strconv.Atoi(name)
	return n
}

// rulesFile is deploy/prometheus/rules.yaml.
type rulesFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert string `yaml:"alert"`
			Expr  string `yaml:"expr"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// MustReadDeploy reads a file of deploy/.
func MustReadDeploy(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(deployDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// MustDecodeYAML decodes every document of a deploy/ YAML file, each into a
// new T; invalid YAML, a repeated key included, fails the test.
func MustDecodeYAML[T any](tb testing.TB, name string) []T {
	tb.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(MustReadDeploy(tb, name)))
	var out []T
	for {
		var v T
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			tb.Fatalf("%s: document %d: %v", name, len(out)+1, err)
		}
		out = append(out, v)
	}
}

// configVars are the environment variables config reads.
func configVars() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeFor[config.Config]()
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("env"), ","); name != "" {
			out[name] = true
		}
	}
	return out
}

// defaultPorts are the ports of config's default OTP_HTTP_ADDR and OTP_WORKER_ADDR.
func defaultPorts(tb testing.TB) (httpPort, workerPort int) {
	tb.Helper()
	cfg, err := config.Load(map[string]string{})
	if err != nil {
		tb.Fatal(err)
	}
	port := func(addr string) int {
		_, p, err := net.SplitHostPort(addr)
		if err != nil {
			tb.Fatal(err)
		}
		n, _ := strconv.Atoi(p)
		return n
	}
	return port(cfg.HTTPAddr), port(cfg.WorkerAddr)
}

// isOTP reports whether a compose service runs OTP's image (the others are
// Redis, Sentinel and nginx).
func (s composeService) isOTP() bool { return strings.HasPrefix(s.Image, "otp:") }

// The YAML files parse, with the documents expected. (deploy/check decodes
// them with the real Compose loader and Kubernetes API types.)
func TestDeployYAMLParses(t *testing.T) {
	c := MustDecodeYAML[composeFile](t, composeYAML)
	if len(c) != 1 {
		t.Fatalf("compose.yaml: %d documents, want 1", len(c))
	}
	var otp []string
	for name, svc := range c[0].Services {
		if svc.isOTP() {
			otp = append(otp, name)
		}
	}
	slices.Sort(otp)
	if !slices.Equal(otp, []string{"otp-serve", "otp-work"}) {
		t.Errorf("compose.yaml: services running OTP %v, want otp-serve and otp-work", otp)
	}
	var kinds []string
	for _, o := range MustDecodeYAML[k8sObject](t, "kubernetes/otp.yaml") {
		kinds = append(kinds, o.Kind+"/"+o.Metadata.Name)
	}
	want := []string{
		"ServiceAccount/otp", "ConfigMap/otp-config", "Deployment/otp-serve", "Deployment/otp-work", "Service/otp",
		"HorizontalPodAutoscaler/otp-serve", "PodDisruptionBudget/otp-serve", "PodDisruptionBudget/otp-work",
		"NetworkPolicy/otp-serve", "NetworkPolicy/otp-work",
	}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("kubernetes/otp.yaml objects (-want +got):\n%s", diff)
	}
	if r := MustDecodeYAML[rulesFile](t, "prometheus/rules.yaml"); len(r) != 1 || len(r[0].Groups) == 0 || len(r[0].Groups[0].Rules) == 0 {
		t.Errorf("prometheus/rules.yaml: no rules in %+v", r)
	}
}

// Every variable a deploy file sets is one config reads, and every
// subcommand one the binary has.
func TestDeployUsesRealVariablesAndCommands(t *testing.T) {
	known := configVars()
	var vars, cmds []string // "file: NAME"

	for line := range strings.Lines(string(MustReadDeploy(t, "otp.env.example"))) {
		// Settings and commented-out settings: NAME=value or #NAME=value.
		if m := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=`).FindStringSubmatch(line); m != nil {
			vars = append(vars, "otp.env.example: "+m[1])
		}
	}
	compose := MustDecodeYAML[composeFile](t, composeYAML)[0]
	for name, svc := range compose.Services {
		if !svc.isOTP() {
			continue
		}
		for k := range svc.Environment {
			vars = append(vars, "compose.yaml "+name+": "+k)
		}
		cmds = append(cmds, "compose.yaml "+name+": "+svc.Command[0])
		if len(svc.Healthcheck.Test) > 2 {
			cmds = append(cmds, "compose.yaml "+name+" healthcheck: "+svc.Healthcheck.Test[2])
		}
	}
	k8sText := string(MustReadDeploy(t, "kubernetes/otp.yaml"))
	for _, m := range regexp.MustCompile(`--from-literal=([A-Z0-9_]+)=`).FindAllStringSubmatch(k8sText, -1) {
		vars = append(vars, "kubernetes secret: "+m[1])
	}
	for _, o := range MustDecodeYAML[k8sObject](t, "kubernetes/otp.yaml") {
		for k := range o.Data {
			vars = append(vars, "kubernetes "+o.Metadata.Name+": "+k)
		}
		for _, c := range o.Spec.Template.Spec.Containers {
			cmds = append(cmds, "kubernetes "+o.Metadata.Name+": "+c.Args[0])
		}
	}
	docker := string(MustReadDeploy(t, dockerfile))
	for _, m := range regexp.MustCompile(`(?m)^ENV (.*)$`).FindAllStringSubmatch(docker, -1) {
		for kv := range strings.FieldsSeq(m[1]) {
			k, _, _ := strings.Cut(kv, "=")
			vars = append(vars, "Dockerfile: "+k)
		}
	}
	for _, m := range regexp.MustCompile(`CMD \["(?:/otp", ")?([a-z]+)"`).FindAllStringSubmatch(docker, -1) {
		cmds = append(cmds, "Dockerfile: "+m[1])
	}
	for _, unit := range []string{"otp-serve.service", "otp-work.service"} {
		m := regexp.MustCompile(`(?m)^ExecStart=\S+/otp (\S+)`).FindStringSubmatch(string(MustReadDeploy(t, "systemd/"+unit)))
		if m == nil {
			t.Errorf("%s: no ExecStart=.../otp COMMAND", unit)
			continue
		}
		cmds = append(cmds, unit+": "+m[1])
	}

	if len(vars) < 20 || len(cmds) < 8 {
		t.Fatalf("found %d variables and %d commands in deploy/: the patterns no longer match the files", len(vars), len(cmds))
	}
	for _, v := range vars {
		if _, name, _ := strings.Cut(v, ": "); !known[name] {
			t.Errorf("%s: config does not read this variable", v)
		}
	}
	for _, c := range cmds {
		if _, name, _ := strings.Cut(c, ": "); commands[name].run == nil {
			t.Errorf("%s: otp has no such command", c)
		}
	}
}

// Ports: the image exposes, compose publishes and Kubernetes declares the
// ports of config's defaults, and every address deploy/ sets is a default.
func TestDeployPortsAreTheDefaults(t *testing.T) {
	httpPort, workerPort := defaultPorts(t)
	docker := string(MustReadDeploy(t, dockerfile))
	want := strconv.Itoa(httpPort) + " " + strconv.Itoa(workerPort)
	if m := regexp.MustCompile(`(?m)^EXPOSE (.*)$`).FindStringSubmatch(docker); m == nil || m[1] != want {
		t.Errorf("Dockerfile EXPOSE line %q, want EXPOSE %s", m, want)
	}
	compose := MustDecodeYAML[composeFile](t, composeYAML)[0]
	// HOST_IP:PORT:PORT, the host's address a variable (127.0.0.1 unless set).
	if got, want := compose.Services["otp-serve"].Ports, ":"+strconv.Itoa(httpPort)+":"+strconv.Itoa(httpPort); len(got) != 1 || !strings.HasSuffix(got[0], want) {
		t.Errorf("compose otp-serve ports %q, want one ending %q", got, want)
	}
	if got, want := compose.Services["otp-work"].Expose, []string{strconv.Itoa(workerPort)}; !slices.Equal(got, want) {
		t.Errorf("compose otp-work expose %q, want %q", got, want)
	}
	roles := map[string]int{"serve": httpPort, "work": workerPort}
	for _, o := range MustDecodeYAML[k8sObject](t, "kubernetes/otp.yaml") {
		switch o.Kind {
		case "ConfigMap":
			for k, want := range map[string]int{"OTP_HTTP_ADDR": httpPort, "OTP_WORKER_ADDR": workerPort} {
				if v, ok := o.Data[k]; ok && v != ":"+strconv.Itoa(want) {
					t.Errorf("ConfigMap %s=%q, want :%d", k, v, want)
				}
			}
		case "Deployment":
			c := o.Spec.Template.Spec.Containers[0]
			want := roles[c.Args[0]]
			if len(c.Ports) != 1 || c.Ports[0].ContainerPort != want {
				t.Errorf("%s: container ports %+v, want %d", o.Metadata.Name, c.Ports, want)
			}
			if got := o.Spec.Template.Metadata.Annotations["prometheus.io/port"]; got != strconv.Itoa(want) {
				t.Errorf("%s: prometheus.io/port %q, want %d", o.Metadata.Name, got, want)
			}
		case "Service":
			if len(o.Spec.Ports) != 1 || o.Spec.Ports[0].Port != httpPort {
				t.Errorf("Service ports %+v, want %d", o.Spec.Ports, httpPort)
			}
		}
	}
}

// Every probe, health check and scrape deploy/ points at a role answers 200
// on that role's listener of a running OTP.
func TestDeployEndpointsAnswer(t *testing.T) {
	_, workerPort := defaultPorts(t)
	paths := map[string][]string{} // role -> paths
	for _, o := range MustDecodeYAML[k8sObject](t, "kubernetes/otp.yaml") {
		if o.Kind != "Deployment" {
			continue
		}
		c := o.Spec.Template.Spec.Containers[0]
		role := c.Args[0]
		if p := o.Spec.Template.Metadata.Annotations["prometheus.io/path"]; p != "" {
			paths[role] = append(paths[role], p)
		}
		for _, p := range []*k8sProbe{c.StartupProbe, c.LivenessProbe, c.ReadinessProbe} {
			if p == nil || p.HTTPGet == nil {
				continue
			}
			if c.port(p.HTTPGet.Port) != c.Ports[0].ContainerPort {
				t.Errorf("%s: probe on port %q, not the container's", o.Metadata.Name, p.HTTPGet.Port)
			}
			paths[role] = append(paths[role], p.HTTPGet.Path)
		}
	}
	if len(paths["serve"]) < 3 || len(paths["work"]) < 3 {
		t.Fatalf("kubernetes: paths %v, want the scrape and the probes of serve and work", paths)
	}
	// compose's worker health check: otp healthcheck --url http://127.0.0.1:PORT/PATH.
	test := MustDecodeYAML[composeFile](t, composeYAML)[0].Services["otp-work"].Healthcheck.Test
	want := []string{"CMD", "/otp", "healthcheck", "--url", "http://127.0.0.1:" + strconv.Itoa(workerPort) + "/health"}
	if diff := cmp.Diff(want, test); diff != "" {
		t.Errorf("compose otp-work healthcheck (-want +got):\n%s", diff)
	}
	paths["work"] = append(paths["work"], "/health")

	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for role, opt := range map[string]func(*Main){
		"serve": func(m *Main) { m.Roles = roleServe },
		"work":  func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" },
	} {
		a := MustStart(t, now, nil, opt)
		base := a.m.HTTPURL + a.m.WorkerURL // one of them is empty
		for _, p := range paths[role] {
			if status, body, err := get(t, base+p); err != nil || status != http.StatusOK {
				t.Errorf("%s: GET %s = %d %.200s (%v), want 200", role, p, status, body, err)
			}
		}
	}
}

// Every metric and label the alert rules use is exported, in `all` mode
// (one /metrics with everything), once there has been a request and a task.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), nil)
	if _, err := a.m.queue.EnqueueContext(t.Context(), tasks.NewReconcileTask(), asynq.Queue(tasks.QueuePromise), asynq.ProcessIn(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if status, _, err := get(t, a.m.HTTPURL+"/health"); err != nil || status != http.StatusOK {
		t.Fatalf("/health = %d (%v)", status, err)
	}
	_, exposition, err := get(t, a.m.HTTPURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}

	selector := regexp.MustCompile(`([a-z_:][a-z0-9_:]*)\{([^}]*)\}`)
	matcher := regexp.MustCompile(`([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	// What is left once selectors' braces, ranges and grouping clauses are
	// gone: metric names, functions (followed by "("), keywords, numbers.
	noise := regexp.MustCompile(`\{[^}]*\}|\[[^\]]*\]|\b(by|on|without|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident := regexp.MustCompile(`\b([a-z_:][a-z0-9_:]*)\b(\s*\()?`)
	keywords := map[string]bool{"and": true, "or": true, "unless": true, "offset": true, "bool": true}
	checked := 0
	for _, g := range MustDecodeYAML[rulesFile](t, "prometheus/rules.yaml")[0].Groups {
		for _, r := range g.Rules {
			for _, s := range selector.FindAllStringSubmatch(r.Expr, -1) {
				if s[1] == "up" {
					continue // Prometheus's own series for each target
				}
				for _, mm := range matcher.FindAllStringSubmatch(s[2], -1) {
					label, op, value := mm[1], mm[2], mm[3]
					pattern := label + `="[^"]*"`
					if op == "=" {
						pattern = label + `="` + regexp.QuoteMeta(value) + `"`
					}
					if _, ok := metricValue(exposition, s[1], pattern); !ok {
						t.Errorf("%s: no %s{%s} in /metrics", r.Alert, s[1], pattern)
					}
				}
			}
			var names []string
			for _, m := range ident.FindAllStringSubmatch(noise.ReplaceAllString(r.Expr, " "), -1) {
				if m[2] == "" && !keywords[m[1]] {
					names = append(names, m[1])
				}
			}
			if len(names) == 0 {
				t.Errorf("%s: found no metric in %q", r.Alert, r.Expr)
			}
			for _, n := range names {
				checked++
				if n == "up" {
					continue
				}
				if _, ok := metricValue(exposition, n, ""); !ok {
					t.Errorf("%s: /metrics has no %s", r.Alert, n)
				}
			}
		}
	}
	if checked < 17 {
		t.Errorf("checked %d metric uses, want one per rule at least", checked)
	}
}

// The env example lists one setting a line, with no trailing comment that
// some env-file readers would keep in the value.
func TestEnvExampleHasNoTrailingComments(t *testing.T) {
	sc := bufio.NewScanner(bytes.NewReader(MustReadDeploy(t, "otp.env.example")))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimPrefix(sc.Text(), "#")
		if k, v, ok := strings.Cut(line, "="); ok && regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(k) && strings.Contains(v, "#") {
			t.Errorf("otp.env.example:%d: %q has a trailing comment", n, sc.Text())
		}
	}
}

// updateMetrics rewrites deploy/grafana/metrics.txt from a running OTP:
//
//	go test ./cmd/otp -run TestExportedMetricsList -update-metrics
var updateMetrics = flag.Bool("update-metrics", false, "rewrite "+metricsList+" from a running OTP")

// metricsList is the metric families OTP exports, with their labels, for
// the checks of deploy/check (the Grafana dashboard's expressions).
const metricsList = "grafana/metrics.txt"

// family is one metric family of an exposition.
type family struct {
	typ    string
	labels map[string]bool
}

// families reads the metric families of a Prometheus text exposition and
// the label names their samples carry.
func families(exposition string) map[string]*family {
	out := map[string]*family{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\S+) (\S+)$`).FindAllStringSubmatch(exposition, -1) {
		out[m[1]] = &family{typ: m[2], labels: map[string]bool{}}
	}
	sample := regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? `)
	label := regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="`)
	for _, m := range sample.FindAllStringSubmatch(exposition, -1) {
		name := m[1]
		f := out[name]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f == nil {
				f = out[strings.TrimSuffix(name, suffix)]
			}
		}
		if f == nil {
			continue
		}
		for _, l := range label.FindAllStringSubmatch(m[2], -1) {
			if l[1] != "le" && l[1] != "quantile" {
				f.labels[l[1]] = true
			}
		}
	}
	return out
}

// formatFamilies writes "NAME TYPE LABEL,LABEL" lines, sorted.
func formatFamilies(fs map[string]*family) string {
	var lines []string
	for name, f := range fs {
		labels := slices.Sorted(maps.Keys(f.labels))
		lines = append(lines, strings.TrimSpace(name+" "+f.typ+" "+strings.Join(labels, ",")))
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// exportedFamilies runs OTP as `all` (through a saved order: webhook,
// task, promise, ERPNext requests) and as `work` alone, and returns the
// metric families of both /metrics.
func exportedFamilies(t *testing.T) map[string]*family {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	a := MustStart(t, now, nil)
	a.promised(t, a.insertOrder(t, sandbox.DemoItemInStock, 2))
	a.settle(t)
	if status, _, err := get(t, a.m.HTTPURL+"/ready"); err != nil || status != http.StatusOK {
		t.Fatalf("/ready = %d (%v)", status, err)
	}
	_, all, err := get(t, a.m.HTTPURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	w := MustStart(t, now, nil, func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" })
	_, work, err := get(t, w.m.WorkerURL+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	fs := families(all)
	for name, f := range families(work) {
		if g, ok := fs[name]; ok {
			maps.Copy(g.labels, f.labels)
		} else {
			fs[name] = f
		}
	}
	return fs
}

// deploy/grafana/metrics.txt lists only metric families (and labels) a
// running OTP exports. A family OTP adds later is not an error until a
// dashboard wants it: regenerate the list then (see updateMetrics).
func TestExportedMetricsList(t *testing.T) {
	fs := exportedFamilies(t)
	header := "# Metric families OTP exports (`otp all` after a promise, and `otp work`):\n" +
		"# NAME TYPE LABELS. Generated; regenerate with\n" +
		"#   go test ./cmd/otp -run TestExportedMetricsList -update-metrics\n"
	if *updateMetrics {
		if err := os.WriteFile(filepath.Join(deployDir, metricsList), []byte(header+formatFamilies(fs)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	listed := 0
	for line := range strings.Lines(string(MustReadDeploy(t, metricsList))) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		listed++
		fields := strings.Fields(line)
		f, ok := fs[fields[0]]
		switch {
		case !ok:
			t.Errorf("%s lists %s, which OTP no longer exports (regenerate: -update-metrics)", metricsList, fields[0])
		case len(fields) < 2 || f.typ != fields[1]:
			t.Errorf("%s: %s is a %s, OTP exports a %s", metricsList, fields[0], fields[1:], f.typ)
		case len(fields) == 3:
			for l := range strings.SplitSeq(fields[2], ",") {
				if !f.labels[l] {
					t.Errorf("%s: %s has no label %s in OTP's /metrics", metricsList, fields[0], l)
				}
			}
		}
	}
	if listed < 10 {
		t.Errorf("%s lists %d families: regenerate it with -update-metrics", metricsList, listed)
	}
}

// otpProcess is `otp ARGS...` run as a process of its own.
type otpProcess struct {
	cmd  *exec.Cmd
	url  chan string // the banner's OTP URL
	out  *syncBuffer
	done chan error
}

// MustStartProcess runs `otp args...` with the environment env on top of
// an embedded Redis and sandbox on loopback, random ports, and waits for
// its banner.
func MustStartProcess(tb testing.TB, env map[string]string, args ...string) *otpProcess {
	tb.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = []string{"OTP_TEST_RUN_MAIN=1", "PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"OTP_HTTP_ADDR=127.0.0.1:0", "OTP_SANDBOX_ADDR=127.0.0.1:0", "OTP_WORKER_ADDR=127.0.0.1:0", "LOG_LEVEL=INFO"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &otpProcess{cmd: cmd, url: make(chan string, 1), out: &syncBuffer{}, done: make(chan error, 1)}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = p.out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() { // ends when the process closes its stdout
		banner := regexp.MustCompile(`^\s+OTP:\s+(http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.out.Write([]byte(sc.Text() + "\n"))
			if m := banner.FindStringSubmatch(sc.Text()); m != nil {
				p.url <- m[1]
			}
		}
		p.done <- cmd.Wait()
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		if tb.Failed() {
			tb.Logf("otp %v output:\n%s", args, p.out)
		}
	})
	return p
}

func (p *otpProcess) MustURL(tb testing.TB) string {
	tb.Helper()
	select {
	case u := <-p.url:
		return u
	case err := <-p.done:
		tb.Fatalf("otp exited before its banner: %v\n%s", err, p.out)
	case <-time.After(20 * time.Second):
		tb.Fatalf("no banner after 20s:\n%s", p.out)
	}
	return ""
}

// loadResult is what steady load against one OTP saw.
type loadResult struct {
	ok, failed, okAfterSignal int
	firstError                string
}

// steadyLoad sends GET /health from four clients (two reusing connections,
// two opening one per request, as a load balancer does) every few
// milliseconds until stop is closed.
func steadyLoad(url string, signalled func() bool, stop <-chan struct{}) loadResult {
	var (
		mu  sync.Mutex
		res loadResult
		wg  sync.WaitGroup
	)
	for i := range 4 {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: i%2 == 1}}
		wg.Go(func() {
			defer client.CloseIdleConnections()
			for {
				select {
				case <-stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
				after := signalled()
				resp, err := client.Get(url + "/health")
				if err == nil {
					_, err = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if err == nil && resp.StatusCode != http.StatusOK {
						err = fmt.Errorf("status %d", resp.StatusCode)
					}
				}
				mu.Lock()
				switch {
				case err != nil:
					res.failed++
					if res.firstError == "" {
						res.firstError = err.Error()
					}
				case after:
					res.okAfterSignal++
					res.ok++
				default:
					res.ok++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return res
}

// `otp serve` under steady load gets SIGTERM; the load goes on for most of
// OTP_DRAIN_DELAY (the time a load balancer takes to stop routing to a
// terminating instance) and then stops. With the delay no request fails;
// without it, the requests after SIGTERM are refused (the test can fail).
func TestServeDrainsOnSIGTERM(t *testing.T) {
	tests := []struct {
		name         string
		drainDelay   time.Duration
		loadAfterSig time.Duration // how long clients keep sending after SIGTERM
		wantFailures bool
	}{
		{"drain delay 1.5s, load stops 1s after SIGTERM", 1500 * time.Millisecond, time.Second, false},
		{"no drain delay", 0, time.Second, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := MustStartProcess(t, map[string]string{"OTP_DRAIN_DELAY": tc.drainDelay.String()}, "serve")
			url := p.MustURL(t)

			var signalled atomic.Bool
			stop := make(chan struct{})
			results := make(chan loadResult, 1)
			go func() { results <- steadyLoad(url, signalled.Load, stop) }()
			time.Sleep(500 * time.Millisecond) // steady state
			signalled.Store(true)
			sentAt := time.Now()
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			time.Sleep(tc.loadAfterSig)
			close(stop)
			res := <-results

			select {
			case err := <-p.done:
				if err != nil {
					t.Errorf("otp serve exited with %v after SIGTERM, want 0", err)
				}
				if took := time.Since(sentAt); took < tc.drainDelay {
					t.Errorf("otp serve exited %v after SIGTERM, before its drain delay %v", took, tc.drainDelay)
				}
			case <-time.After(15 * time.Second):
				t.Fatal("otp serve still running 15s after SIGTERM")
			}
			t.Logf("%d requests answered (%d after SIGTERM), %d failed (first: %s)", res.ok, res.okAfterSignal, res.failed, res.firstError)
			if res.ok < 50 {
				t.Errorf("only %d requests answered: the load is not steady", res.ok)
			}
			if tc.wantFailures {
				if res.failed == 0 {
					t.Error("no request failed without a drain delay: the load did not reach past the shutdown")
				}
				return
			}
			if res.failed > 0 {
				t.Errorf("%d requests failed during the drain (first: %s), want 0", res.failed, res.firstError)
			}
			if res.okAfterSignal < 50 {
				t.Errorf("%d requests answered after SIGTERM, want the load to go on during the drain", res.okAfterSignal)
			}
		})
	}
}

// otp work's /ready is readiness, /health liveness: with Redis gone the
// worker is not ready (no task can run) but alive (asynq reconnects).
func TestWorkerReadyIsNotHealth(t *testing.T) {
	mr := miniredis.RunT(t)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	w := MustStart(t, now, map[string]string{"REDIS_URL": "redis://" + mr.Addr() + "/0"},
		func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" })
	for _, tc := range []struct {
		name              string
		before            func()
		health, readiness int
	}{
		{"running", func() {}, http.StatusOK, http.StatusOK},
		{"Redis unreachable", mr.Close, http.StatusOK, http.StatusServiceUnavailable},
	} {
		tc.before()
		if status, body, err := get(t, w.m.WorkerURL+"/health"); err != nil || status != tc.health {
			t.Errorf("%s: /health = %d %s (%v), want %d", tc.name, status, body, err, tc.health)
		}
		if status, body, err := get(t, w.m.WorkerURL+"/ready"); err != nil || status != tc.readiness {
			t.Errorf("%s: /ready = %d %s (%v), want %d", tc.name, status, body, err, tc.readiness)
		}
	}
	if err := mr.Restart(); err != nil { // so that the worker stops without waiting on Redis
		t.Fatal(err)
	}
}

// MustRedisServer starts a redis-server of the test's own on a free
// loopback port, reading conf first when it is not empty, with args added,
// and returns its address; it skips the test when redis-server is not
// installed (CI installs it).
func MustRedisServer(tb testing.TB, conf string, args ...string) string {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Skip("redis-server is not installed: skipping (CI installs it: apt-get install redis-server)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	dir := tb.TempDir()
	var argv []string
	if conf != "" {
		argv = append(argv, conf) // redis-server wants the file first
	}
	argv = append(argv, "--port", port, "--bind", "127.0.0.1", "--dir", dir)
	cmd := exec.Command(bin, append(argv, args...)...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(tb, 10*time.Second, "redis-server on "+addr, func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("redis-server %v:\n%s", argv, &out)
		}
	})
	return addr
}

// scripts/backup.sh copies a real Redis holding OTP's queues, and
// scripts/backup-verify.sh restores the copy into a throwaway redis-server
// and finds every task again; a damaged copy fails the check.
func TestBackupAndVerifyRestoreTheQueues(t *testing.T) {
	for _, tool := range []string{"redis-cli", "redis-check-rdb", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: skipping (CI installs redis-server)", tool)
		}
	}
	addr := MustRedisServer(t, "", "--appendonly", "yes", "--save", "")
	client := asynq.NewClient(asynq.RedisClientOpt{Addr: addr})
	defer client.Close()
	enqueue := func(task *asynq.Task, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := client.EnqueueContext(t.Context(), task); err != nil {
			t.Fatal(err)
		}
	}
	for _, order := range []string{"SO-0001", "SO-0002", "SO-0003"} {
		enqueue(tasks.NewPromiseOrderTask(tasks.PromiseOrder{SalesOrder: order, Modified: "2026-12-02 10:00:00", Event: "on_update"}))
	}
	enqueue(tasks.NewSupplyChangedTask(tasks.SupplyChanged{DocType: "Purchase Order", Name: "PO-0001"}))
	enqueue(tasks.NewReconcileTask(asynq.ProcessIn(time.Hour)), nil)

	dir := t.TempDir()
	script := func(name string, args ...string) (string, error) {
		cmd := exec.CommandContext(t.Context(), filepath.Join("..", "..", "scripts", name), args...)
		cmd.Env = append(os.Environ(), "REDIS_URL=redis://"+addr+"/0")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := script("backup.sh", dir)
	if err != nil {
		t.Fatalf("backup.sh: %v\n%s", err, out)
	}
	backup := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if out, err = script("backup-verify.sh", backup); err != nil {
		t.Fatalf("backup-verify.sh: %v\n%s", err, out)
	}
	for _, want := range []string{"promise pending 3 3", "supply pending 1 1", "reconcile scheduled 1 1", "5 tasks restored"} {
		if !strings.Contains(out, want) {
			t.Errorf("backup-verify.sh output lacks %q:\n%s", want, out)
		}
	}

	// A copy that lost a task, then a damaged file: both fail.
	counts := filepath.Join(backup, "queues.txt")
	b, err := os.ReadFile(counts)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(counts, []byte(strings.Replace(string(b), "promise pending 3", "promise pending 4", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := script("backup-verify.sh", backup); err == nil || !strings.Contains(out, "checksum did NOT match") && !strings.Contains(out, "FAILED") {
		t.Errorf("backup-verify.sh accepted an edited queues.txt: %v\n%s", err, out)
	}
	sum := exec.CommandContext(t.Context(), "sha256sum", "dump.rdb", "queues.txt", "db")
	sum.Dir = backup
	sums, err := sum.Output()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(backup, "SHA256SUMS"), sums, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := script("backup-verify.sh", backup); err == nil || !strings.Contains(out, "promise pending 4 3") {
		t.Errorf("backup-verify.sh: a queue that lost a task: %v, want a failure naming it:\n%s", err, out)
	}
}

// REDIS_URL in asynq's Sentinel form (the env example's and docs'): OTP
// finds the master through a real Sentinel and promises an order.
func TestSentinelRedisURL(t *testing.T) {
	master := MustRedisServer(t, "", "--save", "")
	host, port, _ := net.SplitHostPort(master)
	conf := filepath.Join(t.TempDir(), "sentinel.conf")
	if err := os.WriteFile(conf, []byte("sentinel monitor otp "+host+" "+port+" 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	sentinel := MustRedisServer(t, conf, "--sentinel")
	url := "redis-sentinel://" + sentinel + "?master=otp"
	cfg, err := config.Load(map[string]string{"REDIS_URL": url})
	if err != nil {
		t.Fatalf("REDIS_URL=%s: %v", url, err)
	}
	if opt, ok := cfg.RedisConnOpt().(asynq.RedisFailoverClientOpt); !ok || opt.MasterName != "otp" {
		t.Fatalf("REDIS_URL=%s parsed as %#v, want a failover client for master otp", url, cfg.RedisConnOpt())
	}
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), map[string]string{"REDIS_URL": url})
	doc := a.promised(t, a.insertOrder(t, sandbox.DemoItemInStock, 5))
	if doc[erp.FieldPromiseDate] != "2026-12-04" {
		t.Errorf("promise %v through Sentinel, want 2026-12-04", doc[erp.FieldPromiseDate])
	}
}

// scripts/diagnostics.sh against a running OTP (serve + work in one
// process, and a worker alone): every section answers, and no secret of
// the environment reaches the report.
func TestDiagnosticsScript(t *testing.T) {
	for _, tool := range []string{"curl", "redis-cli"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: skipping (CI installs it)", tool)
		}
	}
	addr := MustRedisServer(t, "", "--save", "")
	redisURL := "redis://:hunter2@" + addr + "/0"
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	a := MustStart(t, now, map[string]string{"REDIS_URL": "redis://" + addr + "/0"})
	a.promised(t, a.insertOrder(t, sandbox.DemoItemInStock, 1))
	w := MustStart(t, now, map[string]string{"REDIS_URL": "redis://" + addr + "/0"}, func(m *Main) { m.Roles, m.WorkerAddr = roleWork, "127.0.0.1:0" })
	key, secret := a.sb.Credentials()

	cmd := exec.CommandContext(t.Context(), filepath.Join("..", "..", "scripts", "diagnostics.sh"))
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"OTP_TEST_RUN_MAIN=1", "OTP_BIN=" + os.Args[0],
		"OTP_URL=" + a.m.HTTPURL, "WORKER_URL=" + w.m.WorkerURL,
		// redis-cli ignores a password Redis does not ask for; the URL
		// carries one here so that its redaction is checked.
		"REDIS_URL=" + redisURL,
		"ERPNEXT_BASE_URL=" + a.m.SandboxURL, "ERPNEXT_API_KEY=" + key, "ERPNEXT_API_SECRET=" + secret,
		"OTP_WEBHOOK_SECRET=webhook-secret-value", "OTP_PUBLIC_URL=" + a.m.HTTPURL,
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("diagnostics.sh: %v\n%s", err, out)
	}
	report := string(out)
	for _, want := range []string{
		"otp " + version, // `otp version`
		"== otp serve: " + a.m.HTTPURL + "/health", `"status":"healthy"`,
		"== otp work: " + w.m.WorkerURL + "/ready", `"status":"ready"`,
		"otp_build_info", "otp_queue_tasks",
		"promise pending 0", "aof_enabled:",
		"== otp migrate status", "(exit 0)",
		"ERPNEXT_API_SECRET=<redacted>", "OTP_WEBHOOK_SECRET=<redacted>", "REDIS_URL=redis://<redacted>@",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, secretValue := range []string{secret, "webhook-secret-value", "hunter2"} {
		if strings.Contains(report, secretValue) {
			t.Errorf("report shows the secret %q", secretValue)
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", report)
	}
}
