package telemetry

import "runtime/debug"

// version is set at build time with -ldflags "-X github.com/sous-run/sous/internal/host/telemetry.version=v1.2.3".
var version = ""

// Version is the host's version: the one set at build time, else the module's, else "dev".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
