package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/config"
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
// $SOUS_CONFIG), then SOUS_* environment variables, then --set pairs. Bad flags and
// positional arguments are usage errors.
func loadConfig(fs *flag.FlagSet, args []string) (*config.Config, error) {
	return loadConfigWith(fs, args, nil)
}

// loadConfigWith is loadConfig with a layer of command defaults (e.g. sous dev's
// embedded broker) that applies only to keys no file, env or --set gave.
func loadConfigWith(fs *flag.FlagSet, args []string, cmdDefaults map[string]string) (*config.Config, error) {
	cfg, pos, err := loadConfigArgs(fs, args, cmdDefaults)
	if err == nil && len(pos) > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q (see `sous %s -h`)", errUsage, pos[0], fs.Name())
	}
	return cfg, err
}

// loadConfigArgs is loadConfigWith that also returns the positional arguments,
// which may stand before, between or after the flags.
func loadConfigArgs(fs *flag.FlagSet, args []string, cmdDefaults map[string]string) (*config.Config, []string, error) {
	file := fs.String("config", os.Getenv("SOUS_CONFIG"), "YAML config `file` (default $SOUS_CONFIG)")
	sets := setFlags{}
	fs.Var(sets, "set", "override one config key, `key=value` (repeatable), e.g. --set plugins.messaging.driver=redis")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, nil, err
			}
			return nil, nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos, args = append(pos, fs.Arg(0)), fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) {
		if key, ok := flagKeys[f.Name]; ok {
			sets[key] = f.Value.String()
		}
	})
	src := config.Sources{File: *file, Env: os.Environ(), Overrides: sets}
	cfg, err := config.Load(src)
	if err != nil || len(cmdDefaults) == 0 {
		return cfg, pos, err
	}
	for k, v := range expandDrivers(cmdDefaults, cfg.Plugins.Executor.Drivers) {
		if cfg.Get(k) == nil || cfg.Source(k) == "default" {
			sets[k] = v
		}
	}
	cfg, err = config.Load(src)
	return cfg, pos, err
}

// expandDrivers repeats a command default whose key holds plugins.executor.*. for
// every configured executor driver (e.g. each driver's sandbox mode).
func expandDrivers(defaults map[string]string, drivers []string) map[string]string {
	out := map[string]string{}
	for k, v := range defaults {
		rest, ok := strings.CutPrefix(k, "plugins.executor.*.")
		if !ok {
			out[k] = v
			continue
		}
		for _, d := range drivers {
			out["plugins.executor."+d+"."+rest] = v
		}
	}
	return out
}

// flagKeys maps shorthand flags a command may define to the config key they set
// (same precedence as --set).
var flagKeys = map[string]string{"role": "role", "addr": "http.addr", "data-dir": "data_dir",
	"algorithm": "auth.algorithm", "key-file": "auth.key_file", "public-key-file": "auth.public_key_file"}

// hostLogger is the host's logger at the configured log_level, on stderr, as JSON
// lines when log_format is json.
func hostLogger(cfg *config.Config) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{Name: "sous", Level: hclog.LevelFromString(cfg.LogLevel), Output: os.Stderr,
		JSONFormat: cfg.LogFormat == "json"})
}
