package sdk

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	basepb "github.com/sous-run/sous/sdk/proto/base"
)

// OpenOptions says how to launch a plugin binary.
type OpenOptions struct {
	Path   string       // the plugin binary
	Kind   string       // the kind the caller expects
	Args   []string     // extra arguments
	Env    []string     // extra environment (KEY=VALUE) for the plugin process
	Logger hclog.Logger // plugin logs are relayed here (default: stderr)
	Stderr *os.File     // optional copy of the raw stderr (non-JSON lines)
	// AutoMTLS wraps the plugin connection in go-plugin's mutual TLS. On Linux the
	// connection is a Unix socket that only the plugin's user (and root) may open, in
	// a directory functions cannot see, so TLS adds a handshake at launch and AES-GCM
	// plus record framing on every message without keeping anyone out; it is off by
	// default (plugins.auto_mtls) and is for plugins reached over TCP.
	AutoMTLS bool
}

// Conn is a launched plugin: its gRPC clients and the go-plugin client that owns the
// process.
type Conn struct {
	*Client
	Info   *basepb.PluginInfo
	plugin *plugin.Client
}

// Open launches a plugin binary through go-plugin (gRPC; AutoMTLS if asked), dispenses the
// expected kind and checks Info: the binary must serve that kind and API version.
// The process gets its own process group so Kill can end it and its children.
func Open(ctx context.Context, o OpenOptions) (*Conn, error) {
	if o.Logger == nil {
		o.Logger = hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: os.Stderr, Level: hclog.Info})
	}
	if _, err := os.Stat(o.Path); err != nil {
		return nil, fmt.Errorf("plugin binary %s: %w", o.Path, err)
	}
	cmd := exec.Command(o.Path, o.Args...)
	cmd.Env = append(PluginEnv(os.Environ()), o.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	pc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(nil),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         o.AutoMTLS,
		Logger:           o.Logger,
		Managed:          false,
		SkipHostEnv:      true, // the plugin gets PluginEnv, never the host's secrets
	})
	rpc, err := pc.Client()
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("launch plugin %s: %w", o.Path, err)
	}
	if v := pc.NegotiatedVersion(); v != APIVersion {
		pc.Kill()
		return nil, fmt.Errorf("plugin %s speaks API version %d, host speaks %d", o.Path, v, APIVersion)
	}
	raw, err := rpc.Dispense(o.Kind)
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("plugin %s: dispense %s: %w", o.Path, o.Kind, err)
	}
	cl := raw.(*Client)
	info, err := cl.Base.Info(ctx, &basepb.InfoRequest{})
	if err != nil {
		pc.Kill()
		return nil, fmt.Errorf("plugin %s: Info: %w", o.Path, err)
	}
	if info.Kind != o.Kind {
		pc.Kill()
		return nil, fmt.Errorf("plugin %s is a %q plugin (driver %q), expected kind %q", o.Path, info.Kind, info.Driver, o.Kind)
	}
	if !supports(info.ApiVersions, APIVersion) {
		pc.Kill()
		return nil, fmt.Errorf("plugin %s (driver %q) supports API versions %v, host needs %d", o.Path, info.Driver, info.ApiVersions, APIVersion)
	}
	return &Conn{Client: cl, Info: info, plugin: pc}, nil
}

// pluginEnvKeys are the host variables a plugin process inherits. Everything else —
// SOUS_AUTH__* keys, tokens, cloud credentials — stays in the host: executor plugins
// run untrusted functions as their children, which could read the plugin's environment.
var pluginEnvKeys = map[string]bool{"PATH": true, "HOME": true, "TMPDIR": true, "LANG": true, "LC_ALL": true,
	"TZ": true, "SOUS_PLUGIN_LOG_LEVEL": true, ProfileEnv: true}

// PluginEnv returns the entries of env (KEY=VALUE) a plugin may inherit.
func PluginEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if k, _, ok := strings.Cut(kv, "="); ok && pluginEnvKeys[k] {
			out = append(out, kv)
		}
	}
	return out
}

func supports(vs []int32, v int32) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Exited reports whether the plugin process has exited.
func (c *Conn) Exited() bool { return c.plugin.Exited() }

// Pid returns the plugin's process id (0 if unknown).
func (c *Conn) Pid() int {
	if rc := c.plugin.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Kill ends the plugin process and its process group.
func (c *Conn) Kill() {
	if pid := c.Pid(); pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
	c.plugin.Kill()
}

// Configure sends the driver's config subtree (as JSON) to the plugin.
func (c *Conn) Configure(ctx context.Context, configJSON []byte, dataDir string) error {
	if _, err := c.Base.Configure(ctx, configToWire(Config{JSON: configJSON, APIVersion: APIVersion, HostDataDir: dataDir})); err != nil {
		return fmt.Errorf("configure plugin %s (%s): %w", c.Info.Driver, c.Info.Kind, err)
	}
	return nil
}

// Close asks the plugin to exit (go-plugin's graceful shutdown, which force-kills it
// after 2 s), then kills whatever is left of its process group.
func (c *Conn) Close() {
	pid := c.Pid()
	c.plugin.Kill()
	if pid > 0 {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
	}
}
