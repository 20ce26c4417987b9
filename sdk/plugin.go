// Package sdk is the contract between the Sous host and its plugins, as Go types.
//
// A plugin is a binary the host launches (go-plugin over gRPC). To write one, implement
// the interface of your kind — Messaging (with a Consumer), Events or Executor, each
// embedding Base (Info, Configure, Health) — and call Serve from main:
//
//	func main() {
//		log := sdk.Logger("events-mine")
//		sdk.Serve(sdk.Plugin{Events: mine.New(log)}, log)
//	}
//
// Report failures by wrapping an error kind (ErrInvalid, ErrNotFound, ErrRefused,
// ErrExhausted, ErrUnavailable, ErrUnsupported): fmt.Errorf("task %s: %w", id,
// sdk.ErrNotFound), or sdk.Errorf(kind, ...) to keep a message exactly as written; a bad
// config in Configure is sdk.ConfigError(...). Then run the conformance suite of your
// kind from sdk/plugintest against the binary.
//
// The SDK owns the wire: it refuses every call before Configure has succeeded
// (ErrNotConfigured) and answers Health "not configured" until then, maps error kinds
// to gRPC codes and back, and keeps a consumer's credits, so a driver never sees a
// generated (*pb) type. examples/plugins/events-memory is a complete plugin; sdk/README.md
// walks through it.
package sdk

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	basepb "github.com/sous-run/sous/sdk/proto/base"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Plugin kinds.
const (
	KindMessaging = "messaging"
	KindExecutor  = "executor"
	KindEvents    = "events"
)

// Kinds lists every plugin kind the host knows.
var Kinds = []string{KindMessaging, KindExecutor, KindEvents}

// APIVersion is the plugin API version this SDK speaks (negotiated with VersionedPlugins).
const APIVersion = 1

// Handshake is fixed forever: changing it would break every plugin in the field.
// Versions are negotiated through VersionedPlugins instead.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  APIVersion,
	MagicCookieKey:   "SOUS_PLUGIN",
	MagicCookieValue: "b3f1c0de-5005-4e6a-9d7e-plugin-handshake",
}

// Client is the host's view of a launched plugin: its connection, on which
// NewMessagingClient, NewEventsClient or NewExecutorClient build the kind's interface.
type Client struct {
	Kind string
	Base basepb.BaseClient
	Conn *grpc.ClientConn
}

// grpcPlugin adapts Plugin/Client to go-plugin's GRPCPlugin.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	kind string
	srv  *Plugin
}

func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	if p.srv == nil {
		return fmt.Errorf("sous plugin: nothing to serve")
	}
	if err := p.srv.Register(s); err != nil {
		return err
	}
	telemetry.RegisterMetricsService(s)
	return nil
}

func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return &Client{Kind: p.kind, Base: basepb.NewBaseClient(c), Conn: c}, nil
}

// PluginSets returns the versioned plugin sets: one entry per kind, so the host can
// dispense the kind it expects and learn the kind a binary really serves.
func PluginSets(srv *Plugin) map[int]plugin.PluginSet {
	set := plugin.PluginSet{}
	for _, k := range Kinds {
		if srv == nil || srv.Kind() == k {
			set[k] = &grpcPlugin{kind: k, srv: srv}
		}
	}
	return map[int]plugin.PluginSet{APIVersion: set}
}

// Logger returns the logger a plugin should use: JSON lines on stderr, which the host
// relays under the plugin's name. Never write to stdout from a plugin.
func Logger(name string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       name,
		Level:      hclog.LevelFromString(envOr("SOUS_PLUGIN_LOG_LEVEL", "info")),
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// Serve runs the plugin until the host ends it. Call it from main and nothing else:
//
//	sdk.Serve(sdk.Plugin{Events: myLog}, sdk.Logger("events-mine"))
//
// A nil logger is Logger("plugin").
func Serve(p Plugin, logger hclog.Logger) {
	NotDumpable()
	if logger == nil {
		logger = Logger("plugin")
	}
	defer startProfile()()
	defer startTelemetry(logger)()
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(&p),
		GRPCServer:       grpcServer,
		Logger:           logger,
	})
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
