package check

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// MustLoadCompose loads compose.yaml with the real Compose loader
// (compose-go, what `docker compose` runs), every profile on, from a
// directory holding only compose.yaml: a fresh clone, without
// deploy/otp.env or .env. env is the environment Compose interpolates.
func MustLoadCompose(tb testing.TB, env ...string) *types.Project {
	tb.Helper()
	dir := tb.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "compose.yaml"), MustRead(tb, "compose.yaml"), 0o644); err != nil {
		tb.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{filepath.Join(dir, "compose.yaml")},
		cli.WithWorkingDirectory(dir), cli.WithEnv(env), cli.WithProfiles([]string{"*"}))
	if err != nil {
		tb.Fatal(err)
	}
	p, err := opts.LoadProject(tb.Context())
	if err != nil {
		tb.Fatalf("compose.yaml does not load on a fresh clone: %v", err)
	}
	return p
}

func TestComposeLoadsOnAFreshClone(t *testing.T) {
	p := MustLoadCompose(t)
	var names []string
	for name := range p.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	want := []string{"nginx", "otp-serve", "otp-work", "redis", "redis-replica", "sentinel-1", "sentinel-2", "sentinel-3"}
	if !slices.Equal(names, want) {
		t.Errorf("services %v, want %v", names, want)
	}
}

// One image, built once by otp-serve with VERSION, run by both roles.
func TestComposeBuildsOneVersionedImage(t *testing.T) {
	for _, tc := range []struct {
		env     []string
		version string
	}{
		{nil, "dev"},
		{[]string{"OTP_VERSION=1.4.2"}, "1.4.2"},
	} {
		p := MustLoadCompose(t, tc.env...)
		serve, work := p.Services["otp-serve"], p.Services["otp-work"]
		if want := "otp:" + tc.version; serve.Image != want || work.Image != want {
			t.Errorf("OTP_VERSION %q: images %q and %q, want %q", tc.version, serve.Image, work.Image, want)
		}
		if serve.Build == nil || serve.Build.Args["VERSION"] == nil || *serve.Build.Args["VERSION"] != tc.version {
			t.Errorf("OTP_VERSION %q: otp-serve build %+v, want VERSION=%s", tc.version, serve.Build, tc.version)
		}
		var builders []string
		for name, s := range p.Services {
			if s.Build != nil {
				builders = append(builders, name)
			}
		}
		if !slices.Equal(builders, []string{"otp-serve"}) {
			t.Errorf("services that build: %v, want only otp-serve", builders)
		}
		if work.PullPolicy != types.PullPolicyNever {
			t.Errorf("otp-work pull_policy %q, want never (otp-serve builds its image)", work.PullPolicy)
		}
	}
}

// Redis keeps its data and says when it is up; OTP waits for it, and
// listens on the host's loopback only unless told otherwise.
func TestComposeRedisAndPorts(t *testing.T) {
	p := MustLoadCompose(t)
	redis := p.Services["redis"]
	cmd := strings.Join(redis.Command, " ")
	for _, want := range []string{"--appendonly yes", "--maxmemory-policy noeviction"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("redis command %q lacks %q", cmd, want)
		}
	}
	if redis.HealthCheck == nil || len(redis.HealthCheck.Test) == 0 {
		t.Error("redis has no healthcheck")
	}
	if len(redis.Volumes) != 1 || redis.Volumes[0].Target != "/data" || redis.Volumes[0].Type != types.VolumeTypeVolume {
		t.Errorf("redis volumes %+v, want a named volume on /data", redis.Volumes)
	}
	for _, name := range []string{"otp-serve", "otp-work"} {
		s := p.Services[name]
		if d, ok := s.DependsOn["redis"]; !ok || d.Condition != types.ServiceConditionHealthy {
			t.Errorf("%s depends_on redis %+v, want condition service_healthy", name, s.DependsOn)
		}
		if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") {
			t.Errorf("%s: read_only %v, cap_drop %v; want a read-only root and no capabilities", name, s.ReadOnly, s.CapDrop)
		}
		if len(s.EnvFiles) != 1 || s.EnvFiles[0].Required {
			t.Errorf("%s env_file %+v, want deploy/otp.env, optional", name, s.EnvFiles)
		}
	}
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if name != "nginx" && port.HostIP != "127.0.0.1" {
				t.Errorf("%s publishes %s on %q, want 127.0.0.1", name, port.Published, port.HostIP)
			}
		}
	}
	// The sentinel profile's URL form is what compose.yaml's comment says.
	if !strings.Contains(string(MustRead(t, "compose.yaml")), "REDIS_URL=redis-sentinel://sentinel-1:26379,sentinel-2:26379,sentinel-3:26379?master=otp") {
		t.Error("compose.yaml no longer shows the Sentinel REDIS_URL")
	}
}
