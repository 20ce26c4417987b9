// Package plugins is the host's plugin manager: it finds the binary of every configured
// driver, launches it through sdk.Open (go-plugin, gRPC, own process group), checks
// Info against the configuration, passes the driver's config subtree to Configure,
// relays its logs, restarts it when it exits and kills every plugin on Close.
//
// Callers get the SDK's interfaces (sdk.Messaging, sdk.Events, sdk.Executor) built on
// a proxy connection that always forwards to the plugin's current process, so a
// client obtained once keeps working across restarts.
package plugins

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/sous-run/sous/internal/host/config"
	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/telemetry"
)

// Manager owns the plugin processes of one host.
type Manager struct {
	cfg  *config.Config
	log  hclog.Logger
	stop chan struct{}
	wg   sync.WaitGroup

	mu        sync.Mutex
	started   bool
	closed    bool
	all       []*instance
	messaging sdk.Messaging
	events    sdk.Events
	executors map[string]sdk.Executor
}

// New returns a manager for cfg; nothing is launched until Start. A nil logger logs
// nothing.
func New(cfg *config.Config, logger hclog.Logger) *Manager {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	return &Manager{cfg: cfg, log: logger, stop: make(chan struct{}), executors: map[string]sdk.Executor{}}
}

// Drivers lists the (kind, driver) pairs a role needs: messaging always; events unless
// the driver is served by the host (embedded, none); executors for roles all and
// worker only (a control node never runs code).
func Drivers(cfg *config.Config, role string) [][2]string {
	out := [][2]string{{sdk.KindMessaging, cfg.Plugins.Messaging.Driver}}
	if !config.IsHostDriver(sdk.KindEvents, cfg.Plugins.Events.Driver) {
		out = append(out, [2]string{sdk.KindEvents, cfg.Plugins.Events.Driver})
	}
	if role != "control" {
		for _, d := range cfg.Plugins.Executor.Drivers {
			out = append(out, [2]string{sdk.KindExecutor, d})
		}
	}
	return out
}

// Start launches the drivers of cfg.Role (see Drivers). See StartRole.
func (m *Manager) Start(ctx context.Context) error { return m.StartRole(ctx, m.cfg.Role) }

// StartRole launches every driver the role needs, in parallel. It returns the launch
// errors joined (each names the binary and what was wrong); the drivers that did
// start keep running and the failed ones show their reason in Status, so a caller may
// report and Close, or carry on. Call it once.
func (m *Manager) StartRole(ctx context.Context, role string) error {
	m.mu.Lock()
	if m.started || m.closed {
		m.mu.Unlock()
		return errors.New("plugin manager: Start called twice or after Close")
	}
	m.started = true
	var insts []*instance
	for _, kd := range Drivers(m.cfg, role) {
		insts = append(insts, m.add(kd[0], kd[1]))
	}
	m.mu.Unlock()

	errs := make([]error, len(insts))
	var wg sync.WaitGroup
	for n, i := range insts {
		if i.down != "" { // no binary
			errs[n] = errors.New(i.down)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := i.launch(ctx); err != nil {
				i.mu.Lock()
				i.down = err.Error()
				i.mu.Unlock()
				errs[n] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// add registers a driver and builds its client; the caller holds m.mu.
func (m *Manager) add(kind, driver string) *instance {
	name := kind + "-" + driver
	js, _ := m.cfg.DriverConfig(kind, driver)
	i := &instance{name: name, kind: kind, driver: driver, configJSON: js, dataDir: m.cfg.DataDir,
		log: m.log.Named(name), stop: m.stop, wg: &m.wg, env: pluginEnv(m.cfg, kind, driver), autoMTLS: m.cfg.Plugins.AutoMTLS}
	path, err := m.cfg.PluginPath(kind, driver)
	if err != nil {
		i.down = err.Error()
		i.path = m.cfg.PluginCandidates(kind, driver)[0]
	}
	if path != "" {
		i.path = path
	}
	m.all = append(m.all, i)
	p := &proxy{i: i}
	switch kind {
	case sdk.KindMessaging:
		m.messaging = sdk.NewMessagingClient(p)
	case sdk.KindEvents:
		m.events = sdk.NewEventsClient(p)
	case sdk.KindExecutor:
		m.executors[driver] = sdk.NewExecutorClient(p)
	}
	return i
}

// pluginEnv is what a plugin gets on top of sdk.PluginEnv's minimal set: its
// GOMAXPROCS (config.DriverProcs), the host variables its inherit_env names (a
// GOMAXPROCS among them wins: the last value of a variable is the one a process
// sees), and the host's log level (sdk.Logger reads SOUS_PLUGIN_LOG_LEVEL) unless the
// operator set one for plugins explicitly.
func pluginEnv(cfg *config.Config, kind, driver string) []string {
	env := []string{"GOMAXPROCS=" + strconv.Itoa(cfg.DriverProcs(kind, driver))}
	for _, name := range cfg.DriverInheritEnv(kind, driver) {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	if ep := cfg.Telemetry.OTLP.Endpoint; ep != "" {
		env = append(env, telemetry.EndpointEnv+"="+ep)
	}
	if os.Getenv("SOUS_PLUGIN_LOG_LEVEL") == "" {
		env = append(env, "SOUS_PLUGIN_LOG_LEVEL="+cfg.LogLevel)
	}
	return env
}

// Messaging returns the messaging plugin (nil before Start).
func (m *Manager) Messaging() sdk.Messaging {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.messaging
}

// Events returns the events plugin; nil before Start and when the events driver is
// served by the host (embedded) or there is none.
func (m *Manager) Events() sdk.Events {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.events
}

// Executor returns the executor of a runtime (bun, python, …).
func (m *Manager) Executor(runtime string) (sdk.Executor, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.executors[runtime]; ok {
		return c, nil
	}
	if !m.started {
		return nil, fmt.Errorf("no executor for runtime %q: plugins not started", runtime)
	}
	return nil, fmt.Errorf("no executor for runtime %q: this host runs executors %v (plugins.executor.drivers; none in role control)",
		runtime, slices.Sorted(maps.Keys(m.executors)))
}

// Close kills every plugin process group, stops restarts and waits for the manager's
// goroutines. It is safe to call more than once.
func (m *Manager) Close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	all := m.all
	close(m.stop)
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, i := range all {
		wg.Add(1)
		go func() { defer wg.Done(); i.close() }()
	}
	wg.Wait()
	m.wg.Wait()
}
