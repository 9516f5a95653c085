package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Where a save's time went, from otp's JSON logs of the run (LOG_LEVEL
// INFO): otp serve's "webhook queued" gives when the save's task was
// queued and its id; otp work's "task finished" when that task started,
// "book allocated" each pass's span and phases, "promised" when each order
// was written. A save is matched to the first write of its order after it,
// and that write to the pass whose write phase holds it.

// savedAt is one save of the run: the order, the `modified` it wrote and
// when it committed.
type savedAt struct {
	name, modified string
	at             time.Time
}

// logLine is what the breakdown reads of a log line. A "promised" line
// names sales_order twice (the task's order, then the order written):
// encoding/json keeps the last.
type logLine struct {
	Time       time.Time `json:"time"`
	Msg        string    `json:"msg"`
	TaskID     string    `json:"task_id"`
	SalesOrder string    `json:"sales_order"`
	Modified   string    `json:"modified"`
	DurationMS float64   `json:"duration_ms"`
	ReadMS     float64   `json:"read_ms"`
	AllocateMS float64   `json:"allocate_ms"`
	WaitMS     float64   `json:"wait_ms"`
	WriteMS    float64   `json:"write_ms"`
	PlanRestMS float64   `json:"plan_rest_ms"`
}

// pass is one "book allocated" line: the pass ran from start to end.
type pass struct {
	start, end time.Time
	line       logLine
}

// stages is the breakdown of a run's saves and passes, in milliseconds.
type stages struct {
	saves, matched int
	// Per save: save → its task queued, → the task started, → the pass
	// that wrote the order began (negative: that pass was reading the book
	// already when the task started, and read the save), → written.
	queued, started, passBegan, written []float64
	// Per pass of the run.
	passes                                  int
	read, allocate, wait, write, planOthers []float64
}

// breakdown reads the logs for the saves and the passes that ended in
// [from, to].
func breakdown(serve, work io.Reader, saves []savedAt, from, to time.Time) (stages, error) {
	type queuedTask struct {
		at time.Time
		id string
	}
	queued := map[string]queuedTask{} // by order@modified
	err := eachLine(serve, func(l logLine) {
		if l.Msg == "webhook queued" && l.SalesOrder != "" {
			queued[l.SalesOrder+"@"+l.Modified] = queuedTask{l.Time, l.TaskID}
		}
	})
	if err != nil {
		return stages{}, fmt.Errorf("otp serve's log: %w", err)
	}
	started := map[string]time.Time{} // by task id
	var passes []pass
	written := map[string][]time.Time{} // by order, in time order
	err = eachLine(work, func(l logLine) {
		switch l.Msg {
		case "task finished":
			started[l.TaskID] = l.Time.Add(-ms(l.DurationMS))
		case "book allocated":
			passes = append(passes, pass{start: l.Time.Add(-ms(l.DurationMS)), end: l.Time, line: l})
		case "promised":
			written[l.SalesOrder] = append(written[l.SalesOrder], l.Time)
		}
	})
	if err != nil {
		return stages{}, fmt.Errorf("otp work's log: %w", err)
	}
	var s stages
	for _, p := range passes {
		if p.end.Before(from) || p.end.After(to) {
			continue
		}
		s.passes++
		s.read = append(s.read, p.line.ReadMS)
		s.allocate = append(s.allocate, p.line.AllocateMS)
		s.wait = append(s.wait, p.line.WaitMS)
		s.write = append(s.write, p.line.WriteMS)
		s.planOthers = append(s.planOthers, p.line.PlanRestMS)
	}
	const slack = 2 * time.Millisecond // the log's time is taken after the write's
	for _, sv := range saves {
		s.saves++
		q, ok := queued[sv.name+"@"+sv.modified]
		st, okStart := started[q.id]
		i := slices.IndexFunc(written[sv.name], func(t time.Time) bool { return t.After(sv.at) })
		if !ok || !okStart || i < 0 {
			continue
		}
		w := written[sv.name][i]
		k := slices.IndexFunc(passes, func(p pass) bool {
			return !w.Before(p.end.Add(-ms(p.line.WriteMS)-slack)) && !w.After(p.end.Add(slack))
		})
		if k < 0 {
			continue
		}
		s.matched++
		s.queued = append(s.queued, msSince(sv.at, q.at))
		s.started = append(s.started, msSince(q.at, st))
		s.passBegan = append(s.passBegan, msSince(st, passes[k].start))
		s.written = append(s.written, msSince(passes[k].start, w))
	}
	return s, nil
}

// String is the breakdown as the driver prints it: p50 / p90 of each stage.
func (s stages) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "where a save's time went (p50 / p90 ms, %d of %d saves matched in otp's logs): queued %s, its task started %s, the pass that wrote it began %s, written %s",
		s.matched, s.saves, pcts(s.queued), pcts(s.started), pcts(s.passBegan), pcts(s.written))
	fmt.Fprintf(&b, "\n  the run's %d passes: read %s, allocate and plan the saved orders %s, wait for the pass before %s, write %s (the other orders planned meanwhile %s)",
		s.passes, pcts(s.read), pcts(s.allocate), pcts(s.wait), pcts(s.write), pcts(s.planOthers))
	return b.String()
}

func pcts(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	v = slices.Clone(v)
	slices.Sort(v)
	at := func(p float64) float64 { return v[min(len(v)-1, int(p*float64(len(v))))] }
	return fmt.Sprintf("%.0f / %.0f", at(0.5), at(0.9))
}

func eachLine(r io.Reader, f func(logLine)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			f(l)
		}
	}
	return sc.Err()
}

// logBreakdown is breakdown of the run's saves from the logs in dir.
func logBreakdown(dir string, saves []savedAt, from, to time.Time) (stages, error) {
	serve, err := os.Open(filepath.Join(dir, "e2e-otp-serve.log"))
	if err != nil {
		return stages{}, err
	}
	defer serve.Close()
	work, err := os.Open(filepath.Join(dir, "e2e-otp-work.log"))
	if err != nil {
		return stages{}, err
	}
	defer work.Close()
	return breakdown(serve, work, saves, from, to)
}

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func msSince(from, to time.Time) float64 { return float64(to.Sub(from)) / float64(time.Millisecond) }
