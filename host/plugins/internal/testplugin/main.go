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
// Health details carry the pid and every SOUS_TEST_* variable the plugin sees (env:NAME).
//
// Events plugins serve the events-memory store; other kinds serve Base only.
package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/sous-run/sous/examples/plugins/events-memory/memlog"
	"github.com/sous-run/sous/sdk"
	basepb "github.com/sous-run/sous/sdk/proto/base"
	executorpb "github.com/sous-run/sous/sdk/proto/executor"
	messagingpb "github.com/sous-run/sous/sdk/proto/messaging"
)

type base struct {
	basepb.UnimplementedBaseServer
	kind, driver string
	child        int
}

func (b *base) Info(context.Context, *basepb.InfoRequest) (*basepb.PluginInfo, error) {
	info := &basepb.PluginInfo{Kind: b.kind, Driver: b.driver, PluginVersion: "9.9.9", ApiVersions: []int32{sdk.APIVersion}}
	switch b.driver {
	case "liar-kind":
		info.Kind = sdk.KindMessaging
		if b.kind == sdk.KindMessaging {
			info.Kind = sdk.KindEvents
		}
	case "old-api":
		info.ApiVersions = []int32{99}
	case "wrong-driver":
		info.Driver = "someone-else"
	}
	return info, nil
}

func (b *base) Configure(_ context.Context, req *basepb.ConfigureRequest) (*basepb.ConfigureResponse, error) {
	if b.driver == "bad-config" {
		return nil, status.Errorf(codes.InvalidArgument, "url is required, got %s", req.ConfigJson)
	}
	return &basepb.ConfigureResponse{}, nil
}

func (b *base) Health(ctx context.Context, _ *basepb.HealthRequest) (*basepb.HealthResponse, error) {
	if b.driver == "hang-health" {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	d := map[string]string{"pid": strconv.Itoa(os.Getpid())}
	if b.child > 0 {
		d["child"] = strconv.Itoa(b.child)
	}
	for _, kv := range os.Environ() { // what of the host's environment reached the plugin
		if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "SOUS_TEST_") {
			d["env:"+k] = v
		}
	}
	return &basepb.HealthResponse{Healthy: true, Details: d}, nil
}

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
	srv := &sdk.Server{Kind: kind, Base: b}
	switch kind {
	case sdk.KindEvents:
		store := memlog.New(log)
		srv.Events = store
	case sdk.KindMessaging:
		srv.Messaging = messagingpb.UnimplementedMessagingServer{}
	case sdk.KindExecutor:
		srv.Executor = executorpb.UnimplementedExecutorServer{}
	}
	if driver == "new-handshake" {
		sets := sdk.PluginSets(srv)
		plugin.Serve(&plugin.ServeConfig{HandshakeConfig: sdk.Handshake, Logger: log, GRPCServer: plugin.DefaultGRPCServer,
			VersionedPlugins: map[int]plugin.PluginSet{2: sets[sdk.APIVersion]}})
		return
	}
	sdk.Serve(srv, log)
}
