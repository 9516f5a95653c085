package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
)

func TestRedisSentinelURL(t *testing.T) {
	tests := []struct {
		url  string
		want asynq.RedisFailoverClientOpt
	}{
		{"redis-sentinel://10.0.0.1:26379,10.0.0.2:26380,s3?master=otp",
			asynq.RedisFailoverClientOpt{MasterName: "otp", SentinelAddrs: []string{"10.0.0.1:26379", "10.0.0.2:26380", "s3:26379"}}},
		{"redis-sentinel://:pw@s1:5000/2?master=otp&sentinel_password=spw",
			asynq.RedisFailoverClientOpt{MasterName: "otp", SentinelAddrs: []string{"s1:5000"}, Password: "pw", SentinelPassword: "spw", DB: 2}},
		{"REDIS-SENTINEL://otp:p%40ss@s1:5000,s1:5000,[::1]:5001/?master=otp",
			asynq.RedisFailoverClientOpt{MasterName: "otp", SentinelAddrs: []string{"s1:5000", "[::1]:5001"}, Username: "otp", Password: "p@ss"}},
	}
	for _, tt := range tests {
		c := MustLoad(t, map[string]string{"REDIS_URL": tt.url})
		got, ok := c.RedisConnOpt().(asynq.RedisFailoverClientOpt)
		if !ok {
			t.Errorf("%s: RedisConnOpt = %T, want asynq.RedisFailoverClientOpt", tt.url, c.RedisConnOpt())
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.url, diff)
		}
	}
}

func TestRedisURLInvalid(t *testing.T) {
	tests := []struct{ url, want string }{
		{"redis-sentinel://s1:26379", "master is required"},
		{"redis-sentinel://s1:26379?master=", "master is required"},
		{"redis-sentinel://?master=otp", "no sentinel address"},
		{"redis-sentinel://s1:port?master=otp", `"s1:port" is not a sentinel host:port`},
		{"redis-sentinel://s1:70000?master=otp", "is not a sentinel host:port"},
		{"redis-sentinel://s1/x?master=otp", `database "x" is not a number`},
		{"redis-sentinel://s1?master=otp&mastr=x", `unknown parameter "mastr"`},
		{"redis-cluster://n1:6379", "unsupported uri scheme"},
	}
	for _, tt := range tests {
		_, err := Load(map[string]string{"REDIS_URL": tt.url})
		var ve *VarError
		if !errors.As(err, &ve) || ve.Var != "REDIS_URL" || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error = %v, want a REDIS_URL error containing %q", tt.url, err, tt.want)
		}
	}
}

// TestRedisURLPlain: the forms asynq parses are unchanged.
func TestRedisURLPlain(t *testing.T) {
	c := MustLoad(t, map[string]string{"REDIS_URL": "redis://:pw@redis:6380/3"})
	want := asynq.RedisClientOpt{Addr: "redis:6380", Password: "pw", DB: 3}
	if diff := cmp.Diff(want, c.RedisConnOpt()); diff != "" {
		t.Errorf("RedisConnOpt (-want +got):\n%s", diff)
	}
}
