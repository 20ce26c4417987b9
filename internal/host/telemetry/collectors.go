package telemetry

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/sdk"
)

// scrapeTimeout bounds each call a collector makes while /metrics is being served.
const scrapeTimeout = 5 * time.Second

var (
	queueDesc = prometheus.NewDesc("sous_queue_tasks",
		"Tasks in the queue of each command by state (pending, delayed, in_progress, dead), from messaging Stats.",
		[]string{"command", "state"}, nil)
	queueUpDesc = prometheus.NewDesc("sous_queue_stats_up",
		"1 when messaging answered Stats for this scrape, 0 when it did not.", nil, nil)
	pluginUpDesc = prometheus.NewDesc("sous_plugin_up",
		"1 when the plugin is running and its Health says healthy.", []string{"plugin", "kind", "driver"}, nil)
	pluginRestartsDesc = prometheus.NewDesc("sous_plugin_restarts_total",
		"Times the host restarted the plugin after it exited or hung.", []string{"plugin", "kind", "driver"}, nil)
	storeSizeDesc = prometheus.NewDesc("sous_store_size_bytes",
		"Disk space used by the control role's state store.", nil, nil)
)

// QueueCollector reports messaging Stats for commands at every scrape.
type QueueCollector struct {
	Msg      sdk.Messaging
	Commands func() []string // the queues at this scrape (one per deployed function)
}

// Describe implements prometheus.Collector.
func (c QueueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc; ch <- queueUpDesc }

// Collect implements prometheus.Collector.
func (c QueueCollector) Collect(ch chan<- prometheus.Metric) {
	stats, err := QueueStats(context.Background(), c.Msg, c.Commands())
	if err != nil {
		ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(queueUpDesc, prometheus.GaugeValue, 1)
	for _, s := range stats {
		for state, n := range map[string]int64{"pending": s.Pending, "delayed": s.Delayed, "in_progress": s.InProgress, "dead": s.Dead} {
			ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n), s.Command, state)
		}
	}
}

// QueueStats asks messaging for the counts of commands over every tenant.
func QueueStats(ctx context.Context, msg sdk.Messaging, commands []string) ([]sdk.CommandStats, error) {
	ctx, cancel := context.WithTimeout(ctx, scrapeTimeout)
	defer cancel()
	return msg.Stats(ctx, "", commands)
}

// PluginCollector reports each plugin's health and restarts.
type PluginCollector struct {
	Status func(context.Context) []plugins.Status
}

// Describe implements prometheus.Collector.
func (c PluginCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pluginUpDesc
	ch <- pluginRestartsDesc
}

// Collect implements prometheus.Collector.
func (c PluginCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	for _, s := range c.Status(ctx) {
		up := 0.0
		if s.Healthy {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(pluginUpDesc, prometheus.GaugeValue, up, s.Name, s.Kind, s.Driver)
		ch <- prometheus.MustNewConstMetric(pluginRestartsDesc, prometheus.CounterValue, float64(s.Restarts), s.Name, s.Kind, s.Driver)
	}
}

// StoreCollector reports the state store's size.
type StoreCollector struct{ Size func() int64 }

// Describe implements prometheus.Collector.
func (c StoreCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storeSizeDesc }

// Collect implements prometheus.Collector.
func (c StoreCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(storeSizeDesc, prometheus.GaugeValue, float64(c.Size()))
}
