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

	"github.com/sous-run/sous/internal/host/client"
	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/internal/host/plugins"
	"github.com/sous-run/sous/internal/host/server"
)

func init() {
	register(&command{
		name:    "plugins",
		usage:   "ls [--config f] [--set k=v] [--output text|json] [--launch]  show each configured plugin's path, version, API and health (asks the running host if there is one)",
		section: "server",
		run:     runPlugins,
	})
}

func runPlugins(args []string) error {
	if len(args) == 0 || args[0] != "ls" {
		return fmt.Errorf("%w: sous plugins ls [--config file] [--set key=value] [--output text|json] [--launch]", errUsage)
	}
	fs := flag.NewFlagSet("plugins ls", flag.ContinueOnError)
	output := fs.String("output", "text", "output format: text or json")
	launch := fs.Bool("launch", false, "launch the configured plugins even if a host is running (as with any --set)")
	fs.String("data-dir", "", "the host's data directory (overrides data_dir)")
	cfg, err := loadConfig(fs, args[1:])
	if err != nil {
		return err
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("%w: --output %q: use text or json", errUsage, *output)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var st []plugins.Status
	if h, dir, ok := runningHost(cfg); ok && !*launch && !hasSet(args) {
		fmt.Fprintf(os.Stderr, "sous plugins ls: asking the host running on %s (pid %d, API on %s); --launch starts the plugins instead\n", dir, h.PID, h.API)
		if st, err = hostPlugins(ctx, h, dir); err != nil {
			return err
		}
	} else {
		if cfg.Source("log_level") == "default" {
			cfg.LogLevel = "warn" // the table is the answer; plugin chatter would be mixed into it
		}
		m := plugins.New(cfg, hostLogger(cfg))
		defer m.Close()
		_ = m.Start(ctx) // each failure shows in Status with its reason
		st = server.PluginStatus(ctx, m, cfg)
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

// hasSet reports whether args hold a --set (a config the running host does not have).
func hasSet(args []string) bool {
	for _, a := range args {
		if a == "--set" || a == "-set" || strings.HasPrefix(a, "--set=") || strings.HasPrefix(a, "-set=") {
			return true
		}
	}
	return false
}

// runningHost finds a host serving an API on the config's data dir or, when
// no config file or --set was given, the dev host the CLI would find.
func runningHost(cfg *config.Config) (server.Holder, string, bool) {
	if h, ok := server.Running(cfg.DataDir); ok && h.API != "" {
		return h, cfg.DataDir, true
	}
	if cfg.File != "" || cfg.Source("data_dir") != "default" {
		return server.Holder{}, "", false
	}
	wd, _ := os.Getwd()
	if dir := client.FindDataDir(wd); dir != "" {
		if h, ok := server.Running(dir); ok && h.API != "" {
			return h, dir, true
		}
	}
	return server.Holder{}, "", false
}

// hostPlugins asks the running host for its plugins (admin scope: SOUS_TOKEN,
// else the dev host's admin token in its data dir).
func hostPlugins(ctx context.Context, h server.Holder, dir string) ([]plugins.Status, error) {
	_, token, err := client.Resolve(client.Settings{API: h.API, DataDir: dir})
	if err != nil {
		return nil, fmt.Errorf("the host on %s is running; asking it needs an admin token: %w", dir, err)
	}
	var st []plugins.Status
	if err := client.New(h.API, token).Do(ctx, "GET", server.PluginsPath, nil, &st); err != nil {
		return nil, fmt.Errorf("ask the running host for its plugins: %w", err)
	}
	return st, nil
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
