// Package plugintest holds the conformance suites a plugin must pass, one per kind:
// Messaging, Executor and Events. A plugin author runs the suite of their kind against
// their own binary from a Go test:
//
//	func TestConformance(t *testing.T) {
//		plugintest.Events(t, plugintest.Target{Path: "./bin/my-plugin", Config: `{"url":"…"}`})
//	}
//
// Every suite launches the real binary through go-plugin, exactly as the host does, and
// drives it through the SDK's Go interfaces (sdk.Messaging, sdk.Events, sdk.Executor):
// the same client shims the host uses, so no test touches a generated type. A driver
// can also be served in-process (Target.InProcess), over the same gRPC shims.
package plugintest

import (
	"context"
	"net"
	"os"
	"testing"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/test/bufconn"

	"github.com/sous-run/sous/sdk"
)

// Target names the plugin under test and the config subtree it is given.
type Target struct {
	Path    string   // the plugin binary
	Config  string   // JSON object passed to Configure ("" = {})
	DataDir string   // host data dir passed to Configure ("" = a temp dir)
	Env     []string // extra environment for the plugin process
	// InProcess, when set, is served in this process (sdk.Plugin.Register on an
	// in-memory gRPC connection) instead of launching Path.
	InProcess *sdk.Plugin
}

// Plugin is a launched plugin under test, seen through the SDK's Go interfaces; the
// field of its kind is set.
type Plugin struct {
	Info      sdk.Info
	Base      sdk.Base
	Messaging sdk.Messaging
	Events    sdk.Events
	Executor  sdk.Executor
	cc        grpc.ClientConnInterface
	proc      *sdk.Conn // nil in-process
}

// Health asks the plugin for its health; err is the call's own failure.
func (p *Plugin) Health(ctx context.Context) (sdk.Health, error) { return sdk.HealthCheck(ctx, p.cc) }

// Pid is the plugin's process id (0 in-process).
func (p *Plugin) Pid() int {
	if p.proc == nil {
		return 0
	}
	return p.proc.Pid()
}

// Exited reports whether the plugin process has exited (false in-process).
func (p *Plugin) Exited() bool { return p.proc != nil && p.proc.Exited() }

// Kill ends the plugin process and its process group (a no-op in-process).
func (p *Plugin) Kill() {
	if p.proc != nil {
		p.proc.Kill()
	}
}

// Launch starts the target as a plugin of the given kind, configures it and ends it
// when the test ends.
func Launch(t testing.TB, tg Target, kind string) *Plugin {
	t.Helper()
	p, err := TryLaunch(t, tg, kind)
	if err != nil {
		t.Fatalf("configure %s: %v", tg.Path, err)
	}
	return p
}

// TryLaunch is Launch returning the Configure error instead of failing (for tests of
// bad or odd configs); a failed launch still fails the test.
func TryLaunch(t testing.TB, tg Target, kind string) (*Plugin, error) {
	t.Helper()
	dir := tg.DataDir
	if dir == "" {
		// Made before Start so that its removal runs after the plugin is killed
		// (cleanups run last-in first-out): a live plugin may still write into it.
		dir = t.TempDir()
	}
	p := Start(t, tg, kind)
	return p, p.Base.Configure(context.Background(), sdk.Config{JSON: []byte(tg.Config), APIVersion: sdk.APIVersion, HostDataDir: dir})
}

// Start launches the target without configuring it (for tests of Configure itself);
// it ends with the test.
func Start(t testing.TB, tg Target, kind string) *Plugin {
	t.Helper()
	p := &Plugin{}
	if tg.InProcess != nil {
		p.cc = serveInProcess(t, *tg.InProcess)
		p.Info = sdk.NewBaseClient(p.cc).Info()
	} else {
		logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Warn})
		c, err := sdk.Open(context.Background(), sdk.OpenOptions{Path: tg.Path, Kind: kind, Env: tg.Env, Logger: logger})
		if err != nil {
			t.Fatalf("launch %s plugin %s: %v", kind, tg.Path, err)
		}
		t.Cleanup(c.Kill)
		p.cc, p.proc, p.Info = c.Conn, c, sdk.InfoFromWire(c.Info)
	}
	p.Base = sdk.NewBaseClient(p.cc)
	if p.Info.Kind != kind {
		t.Fatalf("plugin %s is a %q plugin, want %q", tg.Path, p.Info.Kind, kind)
	}
	switch kind {
	case sdk.KindMessaging:
		p.Messaging = sdk.NewMessagingClient(p.cc)
	case sdk.KindEvents:
		p.Events = sdk.NewEventsClient(p.cc)
	case sdk.KindExecutor:
		p.Executor = sdk.NewExecutorClient(p.cc)
	}
	return p
}

// serveInProcess serves pl on an in-memory listener and returns a connection to it;
// both end with the test.
func serveInProcess(t testing.TB, pl sdk.Plugin) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	if err := pl.Register(srv); err != nil {
		t.Fatalf("register in-process plugin: %v", err)
	}
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient("passthrough:///bufconn", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatalf("dial in-process plugin: %v", err)
	}
	t.Cleanup(func() { _ = cc.Close() })
	return cc
}
