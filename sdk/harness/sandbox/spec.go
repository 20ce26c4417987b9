// Package sandbox runs one harness process in a jail built from Linux namespaces: new
// mount, PID, IPC, UTS and network namespaces entered as root by a small init (this
// package, run from the sous-sandbox helper when it carries the executor's Build, else
// from the executor's own binary: helper.go), which builds a minimal
// read-only root, joins the process's cgroups and starts the runtime in a user
// namespace as an unprivileged uid with no capabilities, no_new_privs and a seccomp
// filter (seccomp.go, set by the exec stage: execstage.go). The init
// stays as PID 1 of the namespace: killing it kills everything the function started.
//
// Any binary that imports this package serves as the init: the package's init
// function takes over the process when it was started by Start.
package sandbox

// Network policies of a function.
const (
	NetworkNone     = "none"     // own network namespace with loopback only (default)
	NetworkOutbound = "outbound" // user-mode network stack (slirp4netns), host loopback unreachable
	NetworkHost     = "host"     // the host's network: trusts the function
)

// Inside ids: the runtime runs as this uid/gid inside its user namespace.
const (
	InsideUID = 1000
	InsideGID = 1000
)

// Paths inside the jail.
const (
	CodeDir = "/fn"      // the bundle, read-only
	TmpDir  = "/tmp"     // private tmpfs, emptied between invocations
	HomeDir = "/home/fn" // private tmpfs
)

// Bind is a host path mounted read-only at Dst inside the jail.
type Bind struct {
	Src string `json:"src"`
	Dst string `json:"dst"`
}

// File is a small file written into the jail's root (etc/passwd, resolv.conf).
type File struct {
	Path string `json:"path"`
	Data string `json:"data"`
}

// Rlimit is a resource limit set on the runtime (the fallback when cgroups are missing).
type Rlimit struct {
	Resource int    `json:"resource"`
	Max      uint64 `json:"max"`
}

// Spec is everything the init needs; sent over the control socket as JSON.
type Spec struct {
	Root     string            `json:"root"`     // an empty host dir used as mount point of the new root
	Binds    []Bind            `json:"binds"`    // read-only binds (runtime, bundle, runner, /usr…)
	Symlinks map[string]string `json:"symlinks"` // link path -> target (bin -> usr/bin)
	Files    []File            `json:"files"`
	TmpMB    int64             `json:"tmp_mb"` // size of the /tmp and HOME tmpfs
	Dir      string            `json:"dir"`    // cwd inside
	Argv     []string          `json:"argv"`
	Env      []string          `json:"env"`
	UID      int               `json:"uid"` // outside uid/gid the runtime maps to
	GID      int               `json:"gid"`
	Cgroups  []string          `json:"cgroups"` // cgroup dirs the init joins before anything else
	// Track is a cgroup v2 dir without controllers the init also tries to join, only
	// for its process list (see Cgroup.Track); a failed join is not an error.
	Track   string   `json:"track,omitempty"`
	Rlimits []Rlimit `json:"rlimits"`
	Network string   `json:"network"`
	WaitGo  bool     `json:"wait_go"` // wait for "go" after setup (the parent wires the network)
}
