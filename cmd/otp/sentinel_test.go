package main

// Redis high availability: the whole of `otp all` on a real Sentinel set
// (a primary, a replica, three sentinels on loopback), the primary killed
// with SIGKILL under webhook load (docs/redis-ha.md).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp/sandbox"
	"github.com/erpnext-otp/otp/server"
	"github.com/erpnext-otp/otp/tasks"
	"github.com/erpnext-otp/otp/worker"
)

// sentinelMaster is the name the test's sentinels monitor.
const sentinelMaster = "otp"

// sentinelSet is a primary, a replica and three sentinels, each a process
// of its own with its files in a temporary directory.
type sentinelSet struct {
	dir       string
	primary   string // host:port at the start
	replica   string
	sentinels []string
	procs     map[string]*exec.Cmd // by address
}

// MustSentinelSet starts the set and waits until the replica is in sync
// and every sentinel knows the replica and the other two sentinels, so
// that a failover can happen. It skips the test when redis-server or
// redis-sentinel is not installed.
func MustSentinelSet(tb testing.TB) *sentinelSet {
	tb.Helper()
	for _, tool := range []string{"redis-server", "redis-sentinel"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed: skipping the Sentinel failover test (apt-get install redis-server redis-sentinel; .ci/run does)", tool)
		}
	}
	ports := freePorts(tb, 5)
	s := &sentinelSet{dir: tb.TempDir(), procs: map[string]*exec.Cmd{}}
	s.primary = "127.0.0.1:" + ports[0]
	s.replica = "127.0.0.1:" + ports[1]
	// The settings docs/redis-ha.md recommends, except fsync (tests need
	// no power-loss safety) and min-replicas-to-write: with one replica it
	// would stop all writes once the primary is gone.
	server := []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "no",
		"--repl-diskless-sync-delay", "0"}
	s.start(tb, "redis-server", s.primary, append([]string{"--port", ports[0]}, server...))
	s.start(tb, "redis-server", s.replica, append([]string{"--port", ports[1], "--replicaof", "127.0.0.1", ports[0]}, server...))
	for _, p := range ports[2:] {
		addr := "127.0.0.1:" + p
		conf := filepath.Join(s.dir, "sentinel-"+p+".conf") // sentinels rewrite their file
		body := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor %s 127.0.0.1 %s 2\n"+
			"sentinel down-after-milliseconds %s 1000\n"+
			"sentinel failover-timeout %s 5000\n",
			p, s.dir, sentinelMaster, ports[0], sentinelMaster, sentinelMaster)
		if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
			tb.Fatal(err)
		}
		s.sentinels = append(s.sentinels, addr)
		s.start(tb, "redis-sentinel", addr, []string{conf})
	}

	waitFor(tb, 20*time.Second, "the replica to sync and the sentinels to find each other", func() bool {
		if !strings.Contains(s.info(tb, s.replica, "replication"), "master_link_status:up") {
			return false
		}
		for _, a := range s.sentinels {
			sc := redis.NewSentinelClient(&redis.Options{Addr: a})
			replicas, err1 := sc.Replicas(tb.Context(), sentinelMaster).Result()
			others, err2 := sc.Sentinels(tb.Context(), sentinelMaster).Result()
			sc.Close()
			if err1 != nil || err2 != nil || len(replicas) != 1 || len(others) != 2 {
				return false
			}
		}
		return true
	})
	return s
}

// start runs one server and waits until it answers PING.
func (s *sentinelSet) start(tb testing.TB, tool, addr string, args []string) {
	tb.Helper()
	logf, err := os.Create(filepath.Join(s.dir, strings.ReplaceAll(addr, ":", "_")+".log"))
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(tool, args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", tool, err)
	}
	s.procs[addr] = cmd
	tb.Cleanup(func() {
		_ = cmd.Process.Kill() // a no-op for the primary killed on purpose
		_ = cmd.Wait()
		logf.Close()
		if tb.Failed() {
			b, _ := os.ReadFile(logf.Name())
			tb.Logf("%s %s log (tail):\n%s", tool, addr, tail(string(b), 2000))
		}
	})
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	waitFor(tb, 10*time.Second, tool+" at "+addr+" to answer", func() bool {
		return rdb.Ping(tb.Context()).Err() == nil
	})
}

// info returns a section of INFO, or "" if addr does not answer.
func (s *sentinelSet) info(tb testing.TB, addr, section string) string {
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	v, _ := rdb.Info(tb.Context(), section).Result()
	return v
}

// master asks the first sentinel that answers where the primary is.
func (s *sentinelSet) master(ctx context.Context) string {
	for _, a := range s.sentinels {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a, MaxRetries: -1})
		hp, err := sc.GetMasterAddrByName(ctx, sentinelMaster).Result()
		sc.Close()
		if err == nil && len(hp) == 2 {
			return net.JoinHostPort(hp[0], hp[1])
		}
	}
	return ""
}

// url is REDIS_URL for the set.
func (s *sentinelSet) url() string {
	return "redis-sentinel://" + strings.Join(s.sentinels, ",") + "?master=" + sentinelMaster
}

// freePorts returns n loopback ports free at the moment of asking.
func freePorts(tb testing.TB, n int) []string {
	tb.Helper()
	var ports []string
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		lns = append(lns, ln)
		_, p, _ := net.SplitHostPort(ln.Addr().String())
		ports = append(ports, p)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// ack is one acknowledged webhook: its task and when the 2xx came.
type ack struct {
	taskID string
	at     time.Time
}

// TestSentinelFailover: webhooks flow into OTP on a Sentinel set; the
// primary is fenced (every write so far confirmed on the replica with
// WAIT) and killed with SIGKILL; the sentinels promote the replica. While
// no primary answers, webhooks get 503 (Frappe retries them); then they
// are queued again and the workers run them. Every webhook acknowledged
// before the fence is a task on the new primary, and every one queued
// after the promotion completes; those acknowledged between the fence and
// the kill are what asynchronous replication may lose, and are counted,
// not required.
func TestSentinelFailover(t *testing.T) {
	set := MustSentinelSet(t)
	a := MustStart(t, time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC), map[string]string{"REDIS_URL": set.url()})
	var orders []string
	for range 8 {
		orders = append(orders, a.insertOrder(t, sandbox.DemoItemInStock, 2))
	}
	for _, o := range orders {
		a.promised(t, o)
	}

	var (
		mu       sync.Mutex
		acks     []ack
		statuses = map[int]int{}
		failures []string
	)
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				order := orders[(g+i)%len(orders)]
				modified := fmt.Sprintf("2026-12-02 10:00:%02d.%06d", g, i)
				status, id, err := postWebhook(ctx, a.m.HTTPURL, a.m.webhookSecret, order, modified)
				now := time.Now()
				mu.Lock()
				switch {
				case ctx.Err() != nil:
				case err != nil:
					failures = append(failures, err.Error())
				default:
					statuses[status]++
					if status/100 == 2 {
						acks = append(acks, ack{taskID: id, at: now})
					} else if status != http.StatusServiceUnavailable {
						failures = append(failures, fmt.Sprintf("status %d", status))
					}
				}
				mu.Unlock()
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	acked := func() int { mu.Lock(); defer mu.Unlock(); return len(acks) }

	waitFor(t, 10*time.Second, "100 webhooks acknowledged", func() bool { return acked() >= 100 })

	// Fence: once WAIT returns, every write the primary applied before
	// the SET (so every webhook acknowledged before fenceAt) is on the
	// replica.
	primary := redis.NewClient(&redis.Options{Addr: set.primary})
	fenceAt := time.Now()
	if err := primary.Set(ctx, "otp:test:fence", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := primary.Wait(ctx, 1, 5*time.Second).Result(); err != nil || n != 1 {
		t.Fatalf("WAIT 1 = %d, %v: the replica did not confirm", n, err)
	}
	if err := set.procs[set.primary].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	primary.Close()

	waitFor(t, 30*time.Second, "the sentinels to promote the replica", func() bool { return set.master(ctx) == set.replica })
	promotedAt := time.Now()
	n := acked()
	waitFor(t, 20*time.Second, "100 webhooks acknowledged on the new primary", func() bool { return acked() >= n+100 })
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(failures) > 0 {
		t.Fatalf("%d webhooks failed other than with 503, e.g. %v", len(failures), failures[:min(5, len(failures))])
	}
	if statuses[http.StatusServiceUnavailable] == 0 {
		t.Logf("no webhook got 503: the outage fell between two requests")
	}

	// Nothing acknowledged before the fence or after the promotion is
	// missing from the new primary. What was acknowledged after the
	// promotion is done within seconds: the workers resumed. Tasks that
	// were running at the kill stay active until their lease expires and
	// asynq's recoverer retries them (30 s and up to a minute): counted.
	atRisk, lostAtRisk, promotedCount := 0, 0, 0
	after := map[string]bool{}
	var before []string
	for _, k := range acks {
		switch {
		case k.at.After(fenceAt) && k.at.Before(killedAt):
			atRisk++
			if _, err := a.insp.GetTaskInfo(tasks.QueuePromise, k.taskID); errors.Is(err, asynq.ErrTaskNotFound) {
				lostAtRisk++
			}
		case k.at.After(promotedAt):
			after[k.taskID] = true
			promotedCount++
		default:
			before = append(before, k.taskID)
		}
	}
	// A pass cut short by the kill may have left the book's lock on the
	// new primary: the next pass waits for it to expire (worker.DefaultLockTTL,
	// docs/redis-ha.md). Every task then completes.
	states := map[string]int{}
	deadline := time.Now().Add(worker.DefaultLockTTL + 15*time.Second)
	for {
		clear(states)
		for id := range after {
			info, err := a.insp.GetTaskInfo(tasks.QueuePromise, id)
			switch {
			case err != nil:
				states[err.Error()]++
			case info.State == asynq.TaskStateCompleted:
				delete(after, id)
			default:
				states[info.State.String()]++
			}
		}
		if len(states) == 0 {
			break
		}
		if time.Now().After(deadline) {
			// A task whose handler finished while asynq's client still
			// dialled the dead primary stays active: its state move failed
			// and asynq's recoverer runs it again after its lease. It was
			// done; anything else still waiting is a failure.
			logs := a.logs.String()
			var stuck []string
			for id := range after {
				if !strings.Contains(logs, "Could not move task id="+id) {
					stuck = append(stuck, id)
				}
			}
			if len(stuck) > 0 {
				t.Fatalf("%v after the load stopped, tasks queued on the new primary are not done: %v (%d with no failed state move)",
					time.Since(deadline.Add(-worker.DefaultLockTTL-15*time.Second)), states, len(stuck))
			}
			t.Logf("%d tasks ran on the new primary but their completion was lost in the failover: asynq's recoverer runs them again", len(after))
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	completedAfter := promotedCount
	if completedAfter == 0 {
		t.Fatal("no task queued on the new primary completed: the workers did not resume")
	}
	clear(states)
	for _, id := range before {
		info, err := a.insp.GetTaskInfo(tasks.QueuePromise, id)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound):
			t.Errorf("task %s was acknowledged before the fence but is not on the new primary: lost", id)
		case err != nil:
			t.Errorf("task %s: %v", id, err)
		case info.State == asynq.TaskStateArchived:
			t.Errorf("task %s was archived: %s", id, info.LastErr)
		default:
			states[info.State.String()]++
		}
	}
	t.Logf("webhooks: %d acknowledged, statuses %v; killed %s after the fence, promoted %s after the kill; "+
		"%d acknowledged before the fence, on the new primary: %v; "+
		"%d acknowledged on the new primary, %d completed; "+
		"%d acknowledged between fence and kill, %d of those lost by asynchronous replication",
		len(acks), statuses, killedAt.Sub(fenceAt).Round(time.Millisecond), promotedAt.Sub(killedAt).Round(100*time.Millisecond),
		len(before), states, promotedCount, completedAfter, atRisk, lostAtRisk)
}

// postWebhook sends a signed Sales Order webhook as Frappe does and returns
// the status and the task id OTP answered.
func postWebhook(ctx context.Context, base, secret, order, modified string) (int, string, error) {
	body, err := json.Marshal(map[string]string{"doctype": "Sales Order", "name": order, "modified": modified})
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/webhooks/erpnext/sales-order", bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	req.Header.Set(server.SignatureHeader, base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b struct {
		TaskID string `json:"task_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b.TaskID, nil
}
