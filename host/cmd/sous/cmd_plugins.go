package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/sous-run/sous/host/config"
	"github.com/sous-run/sous/host/plugins"
	"github.com/sous-run/sous/sdk"
)

func init() {
	register(&command{
		name:    "plugins",
		usage:   "ls [--config f] [--set k=v] [--output text|json]  launch each configured plugin and show its path, version, API and health",
		section: "server",
		run:     runPlugins,
	})
}

func runPlugins(args []string) error {
	if len(args) == 0 || args[0] != "ls" {
		return fmt.Errorf("%w: sous plugins ls [--config file] [--set key=value] [--output text|json]", errUsage)
	}
	fs := flag.NewFlagSet("plugins ls", flag.ContinueOnError)
	output := fs.String("output", "text", "output format: text or json")
	cfg, err := loadConfig(fs, args[1:])
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("%w: --output %q: use text or json", errUsage, *output)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	m := plugins.New(cfg, hostLogger(cfg))
	defer m.Close()
	_ = m.Start(ctx) // each failure shows in Status with its reason
	st := m.Status(ctx)
	if config.IsHostDriver(sdk.KindEvents, cfg.Plugins.Events.Driver) {
		st = append(st, plugins.Status{Name: "events-" + cfg.Plugins.Events.Driver, Kind: sdk.KindEvents,
			Driver: cfg.Plugins.Events.Driver, Path: "(built into the host)", Healthy: true})
	}
	if *output == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(st); err != nil {
			return err
		}
	} else {
		printStatus(os.Stdout, st)
	}
	bad := 0
	for _, s := range st {
		if !s.Healthy {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d plugins not healthy", bad, len(st))
	}
	return nil
}

func printStatus(w io.Writer, st []plugins.Status) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tDRIVER\tVERSION\tAPI\tPATH\tSTATUS")
	for _, s := range st {
		health := "healthy"
		if !s.Healthy {
			health = "NOT HEALTHY: " + s.Reason
		}
		api := make([]string, len(s.APIVersions))
		for n, v := range s.APIVersions {
			api[n] = fmt.Sprint(v)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.Kind, s.Driver, dash(s.PluginVersion), dash(strings.Join(api, ",")), s.Path, health)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
