// Command testplugin is a plugin for the manager's tests. Its kind and driver come
// from its file name, sous-plugin-<kind>-<driver>, so one build serves every case by
// being linked under several names. Drivers with a special meaning:
//
//	liar-kind     Info claims another kind
//	old-api       Info claims API version 99 only
//	new-handshake serves go-plugin protocol version 2 (the host speaks 1)
//	wrong-driver  Info claims driver "someone-else"
//	bad-config    Configure refuses every config
//	with-child    starts a `sleep` child in its process group (pid in Health details);
//	              only a process-group kill ends it
//	with-safe-child  the same, with Pdeathsig set on the child (it dies with the plugin)
//	hang-health   Health never answers (a hung plugin)
//
// Health details carry the pid, the GOMAXPROCS its runtime took and every SOUS_TEST_*
// variable the plugin sees (env:NAME).
//
// Events plugins serve the events-memory store; other kinds serve Base only.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-plugin"

	"github.com/sous-run/sous/examples/plugins/events-memory/memlog"
	"github.com/sous-run/sous/sdk"
)

// base is Base for every kind; the driver name picks its misbehaviour.
type base struct {
	kind, driver string
	child        int
}

func (b *base) Info() sdk.Info {
	info := sdk.Info{Kind: b.kind, Driver: b.driver, Version: "9.9.9"}
	switch b.driver {
	case "liar-kind":
		info.Kind = sdk.KindMessaging
		if b.kind == sdk.KindMessaging {
			info.Kind = sdk.KindEvents
		}
	case "old-api":
		info.APIVersions = []int{99}
	case "wrong-driver":
		info.Driver = "someone-else"
	}
	return info
}

func (b *base) Configure(_ context.Context, c sdk.Config) error {
	if b.driver == "bad-config" {
		return sdk.WithKind(sdk.ErrInvalid, fmt.Errorf("url is required, got %s", c.JSON))
	}
	return nil
}

func (b *base) Health(ctx context.Context) sdk.Health {
	if b.driver == "hang-health" {
		<-ctx.Done()
		return sdk.Health{Reason: ctx.Err().Error()}
	}
	d := map[string]string{"pid": strconv.Itoa(os.Getpid()), "gomaxprocs": strconv.Itoa(runtime.GOMAXPROCS(0))}
	if b.child > 0 {
		d["child"] = strconv.Itoa(b.child)
	}
	for _, kv := range os.Environ() { // what of the host's environment reached the plugin
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SOUS_TEST_") {
			d["env:"+k] = v
		}
	}
	return sdk.Health{Healthy: true, Details: d}
}

// events is the events-memory store behind this plugin's Base.
type events struct {
	*base
	*memlog.Store
}

func (e events) Info() sdk.Info                                    { return e.base.Info() }
func (e events) Configure(ctx context.Context, c sdk.Config) error { return e.base.Configure(ctx, c) }
func (e events) Health(ctx context.Context) sdk.Health             { return e.base.Health(ctx) }

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "sous-plugin-")
	kind, driver, _ := strings.Cut(name, "-")
	if !slices.Contains(sdk.Kinds, kind) {
		os.Stderr.WriteString("testplugin: name it sous-plugin-<kind>-<driver>\n")
		os.Exit(2)
	}
	log := sdk.Logger(name)
	b := &base{kind: kind, driver: driver}
	if driver == "with-child" || driver == "with-safe-child" {
		cmd := exec.Command("sleep", "300")
		if driver == "with-safe-child" {
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		}
		if err := cmd.Start(); err == nil {
			b.child = cmd.Process.Pid
		}
	}
	var srv sdk.Plugin
	switch kind {
	case sdk.KindEvents:
		srv.Events = events{b, memlog.New(log)}
	case sdk.KindMessaging:
		srv.Messaging = unsupported{b}
	case sdk.KindExecutor:
		srv.Executor = unsupported{b}
	}
	if driver == "new-handshake" {
		sets := sdk.PluginSets(&srv)
		plugin.Serve(&plugin.ServeConfig{HandshakeConfig: sdk.Handshake, Logger: log, GRPCServer: plugin.DefaultGRPCServer,
			VersionedPlugins: map[int]plugin.PluginSet{2: sets[sdk.APIVersion]}})
		return
	}
	sdk.Serve(srv, log)
}
