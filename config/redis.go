package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
)

// sentinelScheme is REDIS_URL's form for Redis behind Sentinel
// (docs/redis-ha.md):
//
//	redis-sentinel://[[user]:password@]host1:port[,host2:port...][/db]?master=NAME[&sentinel_password=...]
//
// The user and password are Redis's own (requirepass or an ACL user), given
// to the primary OTP is sent to; sentinel_password is the sentinels' own
// (their requirepass), when they have one. asynq.ParseRedisURI reads the
// same scheme but gives the password to the sentinels only and reads
// neither a database nor a sentinel password, so OTP parses it itself.
const sentinelScheme = "redis-sentinel"

// defaultSentinelPort is Sentinel's port when an address has none.
const defaultSentinelPort = "26379"

// parseRedisURL parses REDIS_URL: redis-sentinel:// here, the other forms
// (redis://, rediss://, redis-socket://) with asynq's parser.
func parseRedisURL(s string) (asynq.RedisConnOpt, error) {
	if !strings.HasPrefix(strings.ToLower(s), sentinelScheme+"://") {
		return asynq.ParseRedisURI(s)
	}
	return parseSentinelURL(s)
}

func parseSentinelURL(s string) (asynq.RedisFailoverClientOpt, error) {
	var opt asynq.RedisFailoverClientOpt
	form := errors.New("want redis-sentinel://[:password@]host:port[,host:port...][/db]?master=NAME")
	// url.Parse refuses some host lists ("h1,h2:26379" has a colon it
	// reads as a bad port); the hosts are cut out first and parsed here.
	rest := s[len(sentinelScheme)+3:]
	hostsEnd := strings.IndexAny(rest, "/?#")
	if hostsEnd < 0 {
		hostsEnd = len(rest)
	}
	authority, tail := rest[:hostsEnd], rest[hostsEnd:]
	var userinfo string
	if at := strings.LastIndexByte(authority, '@'); at >= 0 {
		userinfo, authority = authority[:at], authority[at+1:]
	}
	u, err := url.Parse("redis://" + userinfo + "@placeholder" + tail)
	if err != nil {
		return opt, fmt.Errorf("%w: %v", form, err)
	}
	if u.Fragment != "" {
		return opt, fmt.Errorf("%w: no #fragment", form)
	}
	if userinfo != "" {
		opt.Username = u.User.Username()
		opt.Password, _ = u.User.Password()
	}

	for addr := range strings.SplitSeq(authority, ",") {
		addr = strings.TrimSpace(addr)
		if addr == "" {
			continue
		}
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			host, port = strings.Trim(addr, "[]"), defaultSentinelPort
		}
		if n, err := strconv.Atoi(port); host == "" || err != nil || n < 1 || n > 65535 {
			return opt, fmt.Errorf("%w: %q is not a sentinel host:port", form, addr)
		}
		a := net.JoinHostPort(host, port)
		if !slices.Contains(opt.SentinelAddrs, a) {
			opt.SentinelAddrs = append(opt.SentinelAddrs, a)
		}
	}
	if len(opt.SentinelAddrs) == 0 {
		return opt, fmt.Errorf("%w: no sentinel address", form)
	}

	if p := strings.Trim(u.Path, "/"); p != "" {
		db, err := strconv.Atoi(p)
		if err != nil || db < 0 {
			return opt, fmt.Errorf("%w: database %q is not a number", form, p)
		}
		opt.DB = db
	}
	q := u.Query()
	for k := range q {
		if k != "master" && k != "sentinel_password" {
			return opt, fmt.Errorf("%w: unknown parameter %q (known: master, sentinel_password)", form, k)
		}
	}
	opt.MasterName = strings.TrimSpace(q.Get("master"))
	if opt.MasterName == "" {
		return opt, fmt.Errorf("%w: master is required (the name the sentinels monitor, e.g. ?master=mymaster)", form)
	}
	opt.SentinelPassword = q.Get("sentinel_password")
	return opt, nil
}
