package plugins

import (
	"context"
	"sort"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"

	"github.com/sous-run/sous/sdk/telemetry"
)

// metricsTimeout bounds how long a scrape waits for one plugin's metrics.
const metricsTimeout = 5 * time.Second

// Gather collects the metrics every running plugin serves (its sdk/telemetry
// registry), each sample labelled plugin="<kind>-<driver>", merged by name. A plugin
// that is down, slow or serves no metrics is left out: its sous_plugin_up says why.
// Manager is thus a prometheus.Gatherer the host adds to its /metrics.
func (m *Manager) Gather() ([]*dto.MetricFamily, error) {
	m.mu.Lock()
	all := append([]*instance(nil), m.all...)
	m.mu.Unlock()
	got := make([][]*dto.MetricFamily, len(all))
	var wg sync.WaitGroup
	for n, i := range all {
		c, _, err := i.current()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), metricsTimeout)
			defer cancel()
			fams, err := telemetry.FetchMetrics(ctx, c.Conn)
			if err != nil {
				i.log.Debug("plugin metrics", "error", err)
				return
			}
			got[n] = labelled(fams, i.name)
		}()
	}
	wg.Wait()
	byName := map[string]*dto.MetricFamily{}
	for _, fams := range got {
		for _, f := range fams {
			if have, ok := byName[f.GetName()]; ok && have.GetType() == f.GetType() {
				have.Metric = append(have.Metric, f.Metric...)
				continue
			}
			byName[f.GetName()] = f
		}
	}
	out := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		out = append(out, f)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].GetName() < out[b].GetName() })
	return out, nil
}

// labelled adds plugin=name to every sample (replacing one the plugin set itself).
func labelled(fams []*dto.MetricFamily, name string) []*dto.MetricFamily {
	for _, f := range fams {
		for _, m := range f.Metric {
			labels := []*dto.LabelPair{{Name: proto.String("plugin"), Value: proto.String(name)}}
			for _, l := range m.Label {
				if l.GetName() != "plugin" {
					labels = append(labels, l)
				}
			}
			sort.Slice(labels, func(a, b int) bool { return labels[a].GetName() < labels[b].GetName() })
			m.Label = labels
		}
	}
	return fams
}
