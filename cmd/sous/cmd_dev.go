package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sous-run/sous/internal/host/auth"
	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/host/server"
)

func init() {
	register(&command{name: "dev", section: "server", usage: "[--config f] [--examples dir] [--watch dir…]  run a one-process dev host, deploy the examples, redeploy watched functions on change", run: runDev})
}

// devDefaults: `sous dev` is one process doing everything, and runs functions in the
// sandbox when the machine allows (else one loud line). A config file, env or --set
// still wins.
var devDefaults = map[string]string{"role": "all", "plugins.executor.*.sandbox": "auto"}

func runDev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	examples := fs.String("examples", "examples/functions", "deploy every function directory here that is not deployed yet (\"\" = none)")
	var watch listFlag
	fs.Var(&watch, "watch", "function `dir` to deploy now and redeploy whenever its files change (repeatable; more dirs may follow as arguments)")
	fs.String("addr", "", "API listen address (overrides http.addr)")
	fs.String("data-dir", "", "state directory (overrides data_dir)")
	cfg, pos, err := loadConfigArgs(fs, args, devDefaults)
	if err != nil {
		return err
	}
	if len(pos) > 0 && len(watch) == 0 {
		return fmt.Errorf("%w: unexpected argument %q (to watch function directories: sous dev --watch dir…)", errUsage, pos[0])
	}
	watch = append(watch, pos...)
	for _, d := range watch {
		if _, err := client.ReadManifest(d); err != nil {
			return fmt.Errorf("--watch %s: %w", d, err)
		}
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
	if err := client.RecordDevHost(cfg.DataDir); err != nil {
		say("the CLI will find this host only from this directory tree: %v", err)
	}
	defer client.ForgetDevHost(cfg.DataDir)
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	c := client.New(h.Addr, tok)
	if *examples != "" {
		deployExamples(ctx, c, *examples)
	}
	banner(h.Addr, cfg)
	if len(watch) > 0 {
		startWatch(ctx, c, watch)
	}
	printSignInLink(h)
	err = <-done
	say("stopping…")
	_ = os.Remove(client.AddrFile(cfg.DataDir)) // the CLI must not dial a host that is gone
	return err
}

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

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

// banner tells a person where the host is, what it talks to and what to try.
func banner(addr string, cfg *config.Config) {
	tokenFile := client.TokenFile(cfg.DataDir)
	var b strings.Builder
	fmt.Fprintf(&b, "\nSous is running at http://%s (GET / lists the API)\n", addr)
	fmt.Fprintf(&b, "  admin token: %s (the CLI finds it; API calls need \"Authorization: Bearer $(cat %s)\")\n", tokenFile, tokenFile)
	fmt.Fprintf(&b, "  data:        %s (locked by this host, pid %d)\n", cfg.DataDir, os.Getpid())
	for _, e := range server.Endpoints(cfg) {
		fmt.Fprintf(&b, "  uses:        %s\n", e)
	}
	fmt.Fprintf(&b, "  functions:   bin/sous ls\n\nTry:\n")
	fmt.Fprintf(&b, "  bin/sous invoke hello-bun --data '{\"name\":\"you\"}'\n")
	fmt.Fprintf(&b, "  bin/sous invoke stream-bun --stream --data '{\"text\":\"tokens arrive live\",\"delay_ms\":150}'\n")
	fmt.Fprintf(&b, "  curl -N -H \"Authorization: Bearer $(cat %s)\" -H 'Accept: text/event-stream' -d '{\"n\":3}' http://%s/v1/functions/stream-python/invoke\n", tokenFile, addr)
	fmt.Fprintf(&b, "\nCtrl-C stops the host (state stays in %s).\n", cfg.DataDir)
	fmt.Print(b.String())
}

// say prints progress for people on stderr.
func say(format string, args ...any) { fmt.Fprintf(os.Stderr, "sous: "+format+"\n", args...) }
