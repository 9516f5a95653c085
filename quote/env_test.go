package quote_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp/erptest"
	"github.com/erpnext-otp/otp/server"
)

// env is server with the quote API mounted, as `otp serve` runs it, at the
// pinned clock. The webhooks' queue and Redis answer nothing: the quote API
// never uses them.
type env struct {
	srv *server.Server
}

// MustEnv builds the server with deps adjusted by edit.
func MustEnv(tb testing.TB, edit func(*server.Deps)) *env {
	tb.Helper()
	d := server.Deps{Queue: intake{}, Versions: intake{}, Redis: intake{}, ERP: &erptest.ERP{LoggedUserFn: func(context.Context) (string, error) { return "otp@example.com", nil }}, WebhookSecret: "my-secret", Version: "v-test", Now: func() time.Time { return pinned }}
	if edit != nil {
		edit(&d)
	}
	srv, err := server.New(d)
	if err != nil {
		tb.Fatalf("server.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := srv.Shutdown(context.Background()); err != nil {
			tb.Errorf("Shutdown: %v", err)
		}
	})
	return &env{srv: srv}
}

func (e *env) get(tb testing.TB, path string) *httptest.ResponseRecorder {
	tb.Helper()
	rec := httptest.NewRecorder()
	e.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// intake stands in for the webhooks' queue, versions and Redis.
type intake struct{}

func (intake) EnqueueContext(context.Context, *asynq.Task, ...asynq.Option) (*asynq.TaskInfo, error) {
	return nil, errors.New("intake: no queue in the quote API's tests")
}

func (intake) Record(context.Context, string, string) (bool, error) { return true, nil }

func (intake) Ping(ctx context.Context) *redis.StatusCmd { return redis.NewStatusResult("PONG", nil) }
