package status

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/client"
)

// Beat reports self to the control role at once and then every interval until ctx
// ends. A failed beat is logged once per outage, and retried at the next tick.
func Beat(ctx context.Context, c *client.Client, every time.Duration, self *Self, log hclog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	failing := false
	for {
		bctx, cancel := context.WithTimeout(ctx, every)
		err := c.Do(bctx, "POST", HeartbeatPath, self.Report(bctx), nil)
		cancel()
		switch {
		case err != nil && !failing && ctx.Err() == nil:
			log.Warn("heartbeat to the control role failed; `sous status` will not list this worker until it succeeds", "error", err)
			failing = true
		case err == nil && failing:
			log.Info("heartbeat to the control role succeeds again")
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
