package main

import (
	"slices"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/erpnext-otp/otp/tasks"
)

// queueCollector reports the queues in Redis, read through asynq's
// Inspector on each scrape, with the types Prometheus expects (it replaces
// hibiken/asynq/x/metrics, whose gauges were named like counters):
//
//	otp_queue_tasks{queue,state}          gauge: tasks per state
//	otp_queue_latency_seconds{queue}      gauge: age of the oldest pending task
//	otp_queue_paused{queue}               gauge: 1 while paused
//	otp_queue_processed_total{queue}      counter: tasks processed, kept in Redis
//	otp_queue_failed_total{queue}         counter: tasks that failed, kept in Redis
//	otp_queue_worker_servers              gauge: asynq servers (otp work/all) alive
//	otp_redis_up                          gauge: 1 when Redis answered this scrape
//
// OTP's own queues are always reported, zeros before their first task, so
// an alert on them never goes quiet because a series vanished. Redis down:
// otp_redis_up 0 and no queue series (OTPRedisDown fires instead).
//
// They describe the shared Redis, not the process: every process that
// exports them reports the same numbers. Only processes that run workers
// export them (`otp work` on OTP_WORKER_ADDR, `otp all`; never `otp
// serve`), and rules aggregate them with max, never sum.
type queueCollector struct {
	insp *asynq.Inspector

	tasks, latency, paused, processed, failed, servers, up *prometheus.Desc
}

func newQueueCollector(insp *asynq.Inspector) *queueCollector {
	q := []string{"queue"}
	return &queueCollector{
		insp:      insp,
		tasks:     prometheus.NewDesc("otp_queue_tasks", "Tasks in the queue by state (pending, active, scheduled, retry, archived, completed, aggregating).", []string{"queue", "state"}, nil),
		latency:   prometheus.NewDesc("otp_queue_latency_seconds", "Age of the oldest pending task in the queue; 0 when none is pending.", q, nil),
		paused:    prometheus.NewDesc("otp_queue_paused", "1 while the queue is paused (no task of it is processed), else 0.", q, nil),
		processed: prometheus.NewDesc("otp_queue_processed_total", "Tasks of the queue processed, succeeded or failed, since Redis was new.", q, nil),
		failed:    prometheus.NewDesc("otp_queue_failed_total", "Task attempts of the queue that failed, since Redis was new.", q, nil),
		servers:   prometheus.NewDesc("otp_queue_worker_servers", "asynq worker servers (otp work or otp all processes) that heartbeat in Redis.", nil, nil),
		up:        prometheus.NewDesc("otp_redis_up", "1 when Redis answered the queue inspection of this scrape, else 0.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.latency, c.paused, c.processed, c.failed, c.servers, c.up} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.insp.Queues()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	infos := make([]*asynq.QueueInfo, 0, len(queues)+len(tasks.Queues))
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
			return
		}
		infos = append(infos, info)
	}
	// asynq knows a queue once a task was enqueued to it.
	for q := range tasks.Queues {
		if !slices.Contains(queues, q) {
			infos = append(infos, &asynq.QueueInfo{Queue: q})
		}
	}
	servers, err := c.insp.Servers()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.servers, prometheus.GaugeValue, float64(len(servers)))
	for _, in := range infos {
		for _, s := range []struct {
			state string
			n     int
		}{
			{"pending", in.Pending}, {"active", in.Active}, {"scheduled", in.Scheduled}, {"retry", in.Retry},
			{"archived", in.Archived}, {"completed", in.Completed}, {"aggregating", in.Aggregating},
		} {
			ch <- prometheus.MustNewConstMetric(c.tasks, prometheus.GaugeValue, float64(s.n), in.Queue, s.state)
		}
		paused := 0.0
		if in.Paused {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, in.Latency.Seconds(), in.Queue)
		ch <- prometheus.MustNewConstMetric(c.paused, prometheus.GaugeValue, paused, in.Queue)
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(in.ProcessedTotal), in.Queue)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(in.FailedTotal), in.Queue)
	}
}
