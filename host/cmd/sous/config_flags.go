package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/host/config"
)

// setFlags collects repeated --set key=value pairs.
type setFlags map[string]string

func (s setFlags) String() string { return "" }

func (s setFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not key=value, e.g. --set plugins.messaging.driver=redis", v)
	}
	s[strings.TrimSpace(k)] = val
	return nil
}

// loadConfig adds --config and --set to fs (the caller adds its own flags first),
// parses args and loads the configuration: defaults, then the YAML file (--config, or
// $SOUS_CONFIG), then SOUS_* environment variables, then --set pairs. Bad flags are
// usage errors; the positional arguments are left in fs.Args().
func loadConfig(fs *flag.FlagSet, args []string) (*config.Config, error) {
	return loadConfigWith(fs, args, nil)
}

// loadConfigWith is loadConfig with a layer of command defaults (e.g. sous dev's
// embedded broker) that applies only to keys no file, env or --set gave.
func loadConfigWith(fs *flag.FlagSet, args []string, cmdDefaults map[string]string) (*config.Config, error) {
	file := fs.String("config", os.Getenv("SOUS_CONFIG"), "YAML config `file` (default $SOUS_CONFIG)")
	sets := setFlags{}
	fs.Var(sets, "set", "override one config key, `key=value` (repeatable), e.g. --set plugins.messaging.driver=redis")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	fs.Visit(func(f *flag.Flag) {
		if key, ok := flagKeys[f.Name]; ok {
			sets[key] = f.Value.String()
		}
	})
	src := config.Sources{File: *file, Env: os.Environ(), Overrides: sets}
	cfg, err := config.Load(src)
	if err != nil || len(cmdDefaults) == 0 {
		return cfg, err
	}
	for k, v := range cmdDefaults {
		if cfg.Get(k) == nil || cfg.Source(k) == "default" {
			sets[k] = v
		}
	}
	return config.Load(src)
}

// flagKeys maps shorthand flags a command may define to the config key they set
// (same precedence as --set).
var flagKeys = map[string]string{"role": "role", "addr": "http.addr", "data-dir": "data_dir"}

// hostLogger is the host's logger at the configured log_level, on stderr, as JSON
// lines when log_format is json.
func hostLogger(cfg *config.Config) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "sous", Level: hclog.LevelFromString(cfg.LogLevel), Output: os.Stderr,
		JSONFormat: cfg.LogFormat == "json"})
}
