package sdk

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
)

// ProfileEnv names a directory: when set, a plugin writes a CPU profile of its whole
// life there (<binary>-<pid>.pprof), for performance work. Off by default.
const ProfileEnv = "SOUS_PLUGIN_PPROF"

// startProfile starts the CPU profile ProfileEnv asks for and returns the function
// that writes it; it also writes it when the process is told to terminate.
func startProfile() func() {
	dir := os.Getenv(ProfileEnv)
	if dir == "" {
		return func() {}
	}
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.pprof", filepath.Base(os.Args[0]), os.Getpid()))
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ProfileEnv, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", ProfileEnv, err)
		f.Close()
		return func() {}
	}
	stop := func() { pprof.StopCPUProfile(); f.Close() }
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM)
	go func() { <-sig; stop(); os.Exit(0) }()
	return stop
}
