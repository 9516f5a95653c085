package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/erpnext-otp/otp/erp"
	"github.com/erpnext-otp/otp/promise"
)

// A promise change is done when its fields and its timeline comment are
// both in ERPNext (docs/erpnext-faults.md#comments). The order's
// erp.FieldCommented holds the key of the last promise commented; a pass
// writes an order whose fields differ from its plan, or whose marker is
// not the plan's key. Writing one reads OTP's own last comment and posts
// the plan's only when that comment states another promise, then PUTs the
// fields and the marker together: a retry after a PUT that committed and
// still failed, or after a failed comment, finds the marker behind and
// finishes the job, and never posts the comment twice.

// commentingKey is the Redis set of orders whose last comment may not be
// the one their marker names: a comment is noted here before it is posted,
// and the order leaves the set once its marker names the comment. A POST
// that commits and then fails, or a PUT refused after the POST (the order
// was saved meanwhile), leaves the timeline one comment ahead of the
// marker; should the next plan be the marker's promise again, the fields
// and the marker would look current while the timeline states another
// promise. Orders in the set have their last comment read again.
const commentingKey = "otp:book:commenting"

// commented notes that the order's marker names its last comment.
func (w *Worker) commented(ctx context.Context, log *slog.Logger, order string) {
	if err := w.d.Redis.SRem(ctx, commentingKey, order).Err(); err != nil {
		// The next pass reads its last comment once more, and posts nothing.
		log.WarnContext(ctx, "worker: order still noted as being commented", "err", err)
	}
}

// commentKey is what the marker holds once plan's comment is posted: the
// date and confidence the comment states.
func commentKey(plan promise.Plan) string {
	return plan.PromiseDate.String() + "|" + string(plan.Confidence)
}

// needsComment reports whether an order whose marker says marker still
// needs plan's comment. On a site whose Sales Order lacks the marker field
// (`otp migrate up` not run since it was added) every marker reads empty:
// once a write shows that, only a change of the fields makes a write.
func (w *Worker) needsComment(marker string, plan promise.Plan) bool {
	return marker != commentKey(plan) && !w.noMarker.Load()
}

// readsTimeline reports whether a comment due by the order's marker is
// posted only once OTP's last comment on the timeline is read: when a pass
// may have posted one the marker does not name (recheck: the order is in
// commentingKey), and when the marker is empty (never commented, or the
// site lacks the field). Otherwise the marker names OTP's last comment,
// for a comment is posted only with the order noted in commentingKey, and
// the order leaves it once its marker names that comment. The read is made
// when the write is, never before: the pass before may have commented
// meanwhile.
func (w *Worker) readsTimeline(marker string, recheck bool) bool {
	return recheck || marker == "" || w.noMarker.Load()
}

// states reports whether c, OTP's last comment on an order, states plan's
// promise: its text starts as plan's comment does, whatever explanation
// follows (the explanation alone changing makes no new comment).
func states(c *erp.Comment, plan promise.Plan) bool {
	if c == nil {
		return false
	}
	head := plan
	head.Explanation = ""
	h := comment(head)
	return c.Content == h || strings.HasPrefix(c.Content, h+" ")
}

// lastComment reads OTP's last comment on the order (nil when there is
// none). When ERPNext refuses OTP a read of Comments it answers nil: the
// comment is then posted unchecked. A failure is returned classified.
func (w *Worker) lastComment(ctx context.Context, log *slog.Logger, order string) (*erp.Comment, error) {
	user, err := w.apiUser(ctx)
	if err != nil {
		return nil, err
	}
	if err := w.writes.pause(ctx); err != nil {
		return nil, err
	}
	last, err := w.d.ERP.LastComment(ctx, "Sales Order", order, user)
	if errors.Is(err, erp.ErrPermission) {
		// Without the read a fault between the POST and the PUT can
		// double a comment; refusing to comment would lose them all.
		if !w.noCommentRead.Swap(true) {
			log.WarnContext(ctx, "worker: OTP's API user may not read Comments: posting without checking the last one", "err", err)
		}
		return nil, nil
	}
	if err != nil {
		w.writes.noteLimit(err)
		return nil, classify(err, "worker: read the last comment on %s", order)
	}
	return last, nil
}

// ensureComment makes OTP's last comment on the order state plan: last is
// that comment as read (lastComment), and plan's is posted only when it
// does not. It reports whether it posted. A failure is returned
// classified: a 429, a 5xx or an open breaker fails the pass, which is
// retried.
func (w *Worker) ensureComment(ctx context.Context, log *slog.Logger, l *lock, order string, plan promise.Plan, last *erp.Comment) (bool, error) {
	if states(last, plan) {
		log.InfoContext(ctx, "comment already on the timeline", "comment", last.Name)
		return false, nil
	}
	if err := w.writes.pause(ctx); err != nil {
		return false, err
	}
	if err := w.postComment(ctx, l, order, plan); err != nil {
		return false, err
	}
	return true, nil
}

// postComment notes the order as being commented and posts plan's comment.
func (w *Worker) postComment(ctx context.Context, l *lock, order string, plan promise.Plan) error {
	if err := w.noteCommenting(ctx, l, order); err != nil {
		return err
	}
	return w.addComment(ctx, order, plan)
}

// noteCommenting adds the order to commentingKey, once it has made sure
// the pass still holds the write stage. The read of the last comment and
// the POST are not atomic: two passes at once could both post. A pass
// writes holding the write stage's lock, and the lock is checked right
// before the POST, so a pass whose lock expired (a stalled worker) fails
// instead. Noted before the POST (and the PUT that goes with it): whatever
// becomes of either, the next passes read the last comment again until
// the marker names it.
func (w *Worker) noteCommenting(ctx context.Context, l *lock, order string) error {
	if err := l.held(ctx); err != nil {
		return err
	}
	if err := w.d.Redis.SAdd(ctx, commentingKey, order).Err(); err != nil {
		return fmt.Errorf("worker: note the comment on %s: %w", order, err)
	}
	return nil
}

// addComment posts plan's comment on the order's timeline; a failure is
// returned classified.
func (w *Worker) addComment(ctx context.Context, order string, plan promise.Plan) error {
	if err := w.d.ERP.AddComment(ctx, "Sales Order", order, comment(plan)); err != nil {
		w.writes.noteLimit(err)
		return classify(err, "worker: comment on %s", order)
	}
	return nil
}

// userCache holds OTP's API user once ERPNext has named it.
type userCache struct {
	mu   sync.Mutex
	name string
}

// apiUser is OTP's own API user, the owner of its comments: Deps.APIUser,
// else asked of ERPNext once per worker.
func (w *Worker) apiUser(ctx context.Context) (string, error) {
	w.user.mu.Lock()
	defer w.user.mu.Unlock()
	if w.user.name != "" {
		return w.user.name, nil
	}
	name, err := w.d.ERP.LoggedUser(ctx)
	if err != nil {
		w.writes.noteLimit(err)
		return "", classify(err, "worker: who is OTP's API user")
	}
	if name == "" {
		return "", fmt.Errorf("worker: ERPNext named no API user")
	}
	w.user.name = name
	return name, nil
}

// ErrLockLost is returned by a pass that no longer holds the write
// stage's lock (it expired while the worker stalled): another pass may be
// writing, so this one stops before posting a comment; the task is retried.
var ErrLockLost = errors.New("worker: the write stage's lock expired during the pass")

// held reports, as an error, whether l's key still holds its token; a nil
// lock (no pass) is always held.
func (l *lock) held(ctx context.Context) error {
	if l == nil {
		return nil
	}
	token, err := l.w.d.Redis.Get(ctx, l.key).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("worker: check the lock %s: %w", l.key, err)
	}
	if token != l.token {
		return ErrLockLost
	}
	return nil
}
