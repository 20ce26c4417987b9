package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DevHostRecord is the per-user file in which `sous dev` records its data
// directory, so the CLI finds a running dev host from any directory:
// $XDG_STATE_HOME/sous/dev-host, else ~/.local/state/sous/dev-host.
func DevHostRecord() string {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "sous", "dev-host")
}

// RecordDevHost writes dataDir (made absolute) to DevHostRecord.
func RecordDevHost(dataDir string) error {
	rec := DevHostRecord()
	abs, err := filepath.Abs(dataDir)
	if err != nil || rec == "" {
		return fmt.Errorf("record dev host: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(rec), 0o700); err != nil {
		return fmt.Errorf("record dev host: %w", err)
	}
	tmp := fmt.Sprintf("%s.%d", rec, os.Getpid())
	if err := os.WriteFile(tmp, []byte(abs+"\n"), 0o600); err != nil {
		return fmt.Errorf("record dev host: %w", err)
	}
	return os.Rename(tmp, rec)
}

// ForgetDevHost removes DevHostRecord if it still names dataDir.
func ForgetDevHost(dataDir string) {
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return
	}
	if recorded() == abs {
		_ = os.Remove(DevHostRecord())
	}
}

// recorded is the data directory DevHostRecord names ("" if none).
func recorded() string {
	rec := DevHostRecord()
	if rec == "" {
		return ""
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// FindDataDir finds a running dev host's data directory the way git finds its
// repository: <dir>/.sous with an api.addr in dir or the nearest parent that
// has one, else the directory DevHostRecord names if its host left an api.addr.
// It returns "" when there is none.
func FindDataDir(dir string) string {
	for d := dir; ; {
		cand := filepath.Join(d, DefaultDataDir)
		if exists(AddrFile(cand)) {
			return cand
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if r := recorded(); r != "" && exists(AddrFile(r)) {
		return r
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil || !errors.Is(err, os.ErrNotExist)
}
