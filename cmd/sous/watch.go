package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/devwatch"
)

// startWatch deploys each watched function directory now, then redeploys it
// whenever its files change, one line per deploy. An invocation already
// running keeps its version: a deploy only moves the dev alias for the next one.
func startWatch(ctx context.Context, c *client.Client, dirs []string) {
	for _, d := range dirs {
		watchDeploy(ctx, c, d)
	}
	say("watching %d function director%s for changes", len(dirs), map[bool]string{true: "y", false: "ies"}[len(dirs) == 1])
	go devwatch.Watch(ctx, dirs, devwatch.Options{}, func(d string) { watchDeploy(ctx, c, d) })
}

// watchDeploy deploys dir and says what happened on one line: the new version,
// "unchanged", or why nothing was deployed (a syntax error as file:line:column).
func watchDeploy(ctx context.Context, c *client.Client, dir string) {
	start := time.Now()
	m, req, err := client.PackDir(dir)
	if err != nil {
		say("watch: %s: %v (not deployed)", dir, err)
		return
	}
	v, err := c.Deploy(ctx, m.Name, req)
	var ae *client.APIError
	switch {
	case errors.As(err, &ae) && strings.HasPrefix(ae.Message, m.Name+" "):
		say("watch: %s", ae.Message)
	case errors.As(err, &ae):
		say("watch: %s: %s", m.Name, ae.Message)
	case err != nil:
		if ctx.Err() == nil {
			say("watch: %s: %v", m.Name, err)
		}
	case v.Unchanged:
		say("watch: %s unchanged, still version %d", m.Name, v.Number)
	default:
		say("watch: %s deployed version %d -> %s (%d ms)", m.Name, v.Number, v.Alias, time.Since(start).Milliseconds())
	}
}
