package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sous-run/sous/host/auth"
	"github.com/sous-run/sous/host/client"
	"github.com/sous-run/sous/host/server"
)

func init() {
	register(&command{name: "dev", section: "server", usage: "[--config f] [--examples dir]  run a one-process dev host and deploy the examples", run: runDev})
}

// devDefaults: `sous dev` is one process doing everything. A config file, env or
// --set still wins.
var devDefaults = map[string]string{"role": "all"}

func runDev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	examples := fs.String("examples", "examples/functions", "deploy every function directory here that is not deployed yet (\"\" = none)")
	fs.String("addr", "", "API listen address (overrides http.addr)")
	fs.String("data-dir", "", "state directory (overrides data_dir)")
	cfg, err := loadConfigWith(fs, args, devDefaults)
	if err != nil {
		return err
	}
	log := hostLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	say("starting plugins (%s messaging, %s events, executors %v)…", cfg.Plugins.Messaging.Driver, cfg.Plugins.Events.Driver, cfg.Plugins.Executor.Drivers)
	h, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	if h.API == nil {
		return errors.New("sous dev needs role all (it serves the API and runs functions)")
	}
	tok, err := auth.WriteAdminToken(h.Auth, cfg.DataDir, 30*24*time.Hour)
	if err != nil {
		return fmt.Errorf("write the admin token: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	if *examples != "" {
		deployExamples(ctx, client.New(h.Addr, tok), *examples)
	}
	banner(h.Addr, cfg.DataDir)
	printSignInLink(h)
	err = <-done
	say("stopping…")
	_ = os.Remove(client.AddrFile(cfg.DataDir)) // the CLI must not dial a host that is gone
	return err
}

// deployExamples deploys each function directory under dir that is not deployed yet.
func deployExamples(ctx context.Context, c *client.Client, dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		say("no examples deployed: %v", err)
		return
	}
	for _, e := range entries {
		fdir := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(fdir, client.ManifestFile)); err != nil {
			continue
		}
		m, req, err := client.PackDir(fdir)
		if err != nil {
			say("skip %s: %v", fdir, err)
			continue
		}
		var ae *client.APIError
		if _, err := c.GetFunction(ctx, m.Name); err == nil || errors.As(err, &ae) && ae.Status == 410 {
			continue // deployed already, or deleted on purpose
		} else if ae == nil || ae.Status != 404 {
			say("skip %s: %v", m.Name, err)
			continue
		}
		v, err := c.Deploy(ctx, m.Name, req)
		if err != nil {
			say("deploy %s: %v", m.Name, err)
			continue
		}
		say("deployed %s (%s) version %d", m.Name, m.Runtime, v.Number)
	}
}

func banner(addr, dataDir string) {
	fmt.Printf(`
Sous is running at http://%s
  admin token: %s (the CLI finds it; API calls need "Authorization: Bearer $(cat %[2]s)")
  functions:   bin/sous ls

Try:
  bin/sous invoke hello-bun --data '{"name":"you"}'
  bin/sous invoke stream-bun --stream --data '{"text":"tokens arrive live","delay_ms":150}'
  curl -N -H "Authorization: Bearer $(cat %[2]s)" -H 'Accept: text/event-stream' -d '{"n":3}' http://%[1]s/v1/functions/stream-python/invoke

Ctrl-C stops the host (state stays in %[3]s).
`, addr, client.TokenFile(dataDir), dataDir)
}

// say prints progress for people on stderr.
func say(format string, args ...any) { fmt.Fprintf(os.Stderr, "sous: "+format+"\n", args...) }
