package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/tasks"
)

// ServerConfig is how a Server runs the worker's tasks.
type ServerConfig struct {
	// Redis is the workers' connection, shared with the caller, who closes
	// it after Shutdown. RedisOpt opens the scheduler's own pool, which its
	// shutdown closes: one built on Redis logs an ERROR on every clean stop
	// ("redis connection is shared so the Client can't be closed").
	Redis    redis.UniversalClient
	RedisOpt asynq.RedisConnOpt

	Concurrency int // tasks run at once
	// TaskCheckInterval is how long an idle processor sleeps between looks
	// at its queues; DelayedTaskCheckInterval how often retries and
	// scheduled follow-up passes move to the queue (0: asynq's 5 s).
	TaskCheckInterval        time.Duration
	DelayedTaskCheckInterval time.Duration
	// ShutdownTimeout is how long Shutdown lets a task finish before it
	// goes back to the queue and its context is cancelled.
	ShutdownTimeout time.Duration
	// HandlerGrace is how long Shutdown then waits for such a handler to
	// return (DefaultHandlerGrace when zero).
	HandlerGrace time.Duration

	// ReconcileEvery is the periodic sweep's interval, in Location.
	ReconcileEvery time.Duration
	Location       *time.Location

	Logger *slog.Logger
	// Middleware wraps the worker's handlers, the first innermost.
	Middleware []asynq.MiddlewareFunc
}

// DefaultHandlerGrace is how long Shutdown waits, after the asynq server
// has given up on a task and cancelled its context, for the handler to
// return; a handler returns within milliseconds of that.
const DefaultHandlerGrace = 3 * time.Second

// Server runs a Worker's handlers on asynq and schedules the periodic
// reconcile.
type Server struct {
	cfg       ServerConfig
	log       *slog.Logger
	handler   asynq.Handler
	asynq     *asynq.Server
	scheduler *asynq.Scheduler
	tasks     inflight // handlers that have not returned
}

// NewServer returns a Server for w; Start starts it.
func NewServer(w *Worker, cfg ServerConfig) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HandlerGrace <= 0 {
		cfg.HandlerGrace = DefaultHandlerGrace
	}
	log := cfg.Logger
	mux := asynq.NewServeMux()
	w.Register(mux)
	var handler asynq.Handler = mux
	for _, mw := range cfg.Middleware {
		handler = mw(handler)
	}
	s := &Server{cfg: cfg, log: log}
	s.handler = s.tasks.track(handler)
	s.asynq = asynq.NewServerFromRedisClient(cfg.Redis, asynq.Config{
		Concurrency:              cfg.Concurrency,
		TaskCheckInterval:        cfg.TaskCheckInterval,
		DelayedTaskCheckInterval: cfg.DelayedTaskCheckInterval,
		Queues:                   tasks.Queues,
		RetryDelayFunc:           RetryDelay,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		Logger:                   asynqLogger{log},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			id, _ := asynq.GetTaskID(ctx)
			log.WarnContext(ctx, "task failed", "type", t.Type(), "task_id", id, "retried", retried, "max_retry", maxRetry, "err", err)
		}),
	})
	return s
}

// Start starts the workers, then the scheduler. Call Shutdown even when it
// fails.
func (s *Server) Start() error {
	if err := s.asynq.Start(s.handler); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	s.scheduler = asynq.NewScheduler(s.cfg.RedisOpt, &asynq.SchedulerOpts{
		Location: s.cfg.Location,
		Logger:   asynqLogger{s.log},
	})
	// Unique: with several `otp work` processes, one sweep per interval.
	every := s.cfg.ReconcileEvery
	if _, err := s.scheduler.Register("@every "+every.String(), tasks.NewReconcileTask(asynq.Unique(every))); err != nil {
		return fmt.Errorf("schedule reconcile: %w", err)
	}
	if err := s.scheduler.Start(); err != nil {
		return fmt.Errorf("start scheduler: %w", err)
	}
	return nil
}

// Shutdown stops the scheduler, then the workers: in-flight tasks finish
// or, after ShutdownTimeout, go back to the queue, and their handlers
// return (a task cut short still releases the book's lock). It reports
// whether every handler returned within HandlerGrace; the caller may close
// Redis either way.
func (s *Server) Shutdown() bool {
	if s.scheduler != nil {
		s.scheduler.Shutdown()
	}
	// Shutdown returns once every task has finished or, after
	// ShutdownTimeout, has been re-queued and its context cancelled; it
	// does not wait for those handlers to return.
	s.asynq.Shutdown()
	if !s.tasks.wait(s.cfg.HandlerGrace) {
		s.log.Warn("a task handler did not return after its context was cancelled; closing Redis under it (the book's lock expires by itself)", "waited", s.cfg.HandlerGrace)
		return false
	}
	return true
}

// inflight counts task handlers that have not returned. asynq's Shutdown
// stops waiting for a handler when ShutdownTimeout passes (it re-queues the
// task and cancels the handler's context) but leaves the handler running;
// its deferred cleanup (the book's lock) still needs Redis.
type inflight struct{ wg sync.WaitGroup }

// track wraps h so that every call is counted until it returns.
func (f *inflight) track(h asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		f.wg.Add(1)
		defer f.wg.Done()
		return h.ProcessTask(ctx, t)
	})
}

// wait waits at most d for every tracked handler to return, and reports
// whether they did. Call it only when no new task can start.
func (f *inflight) wait(d time.Duration) bool {
	done := make(chan struct{})
	go func() { // ends when the last handler returns
		f.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// asynqLogger adapts slog to asynq.Logger, whose methods take Println-style
// arguments.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) log(level slog.Level, args []any) {
	a.l.Log(context.Background(), level, fmt.Sprint(args...), "source", "asynq")
}

func (a asynqLogger) Debug(args ...any) { a.log(slog.LevelDebug, args) }
func (a asynqLogger) Info(args ...any)  { a.log(slog.LevelInfo, args) }
func (a asynqLogger) Warn(args ...any)  { a.log(slog.LevelWarn, args) }
func (a asynqLogger) Error(args ...any) { a.log(slog.LevelError, args) }

// Fatal is what asynq calls when it cannot go on; it exits like log.Fatal.
func (a asynqLogger) Fatal(args ...any) {
	a.log(slog.LevelError+4, args)
	os.Exit(1)
}
