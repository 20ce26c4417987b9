package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/server"
)

func init() {
	register(&command{name: "serve", section: "server", usage: "[--config f] [--role all|control|worker] [--addr A]  run a host", run: runServe})
}

// serveDefaults: a server runs untrusted code, so it refuses to start without a working
// sandbox unless the config says otherwise (plugins.executor.<driver>.sandbox).
var serveDefaults = map[string]string{"plugins.executor.*.sandbox": "required"}

func runServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.String("role", "", "all, control or worker (overrides the config's role)")
	fs.String("addr", "", "API listen address (overrides http.addr)")
	fs.String("data-dir", "", "state directory (overrides data_dir)")
	cfg, err := loadConfigWith(fs, args, serveDefaults)
	if err != nil {
		return err
	}
	log := hostLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, e := range server.Endpoints(cfg) {
		log.Info("uses " + e)
	}
	if h.Addr != "" {
		log.Info("serving", "role", cfg.Role, "api", "http://"+h.Addr, "messaging", cfg.Plugins.Messaging.Driver, "events", cfg.Plugins.Events.Driver)
	} else {
		log.Info("serving", "role", cfg.Role, "messaging", cfg.Plugins.Messaging.Driver, "events", cfg.Plugins.Events.Driver)
	}
	err = h.Run(ctx)
	if h.Addr != "" {
		_ = os.Remove(client.AddrFile(cfg.DataDir)) // the CLI must not dial a host that is gone
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}
