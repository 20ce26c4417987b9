package client

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultDataDir is the dev host's data directory, relative to where it runs.
const DefaultDataDir = ".sous"

// AddrFile is where the dev host writes its API address: <dataDir>/api.addr.
func AddrFile(dataDir string) string { return filepath.Join(dataDir, "api.addr") }

// TokenFile is where the dev host writes its admin token: <dataDir>/auth/admin.token
// (same as auth.AdminTokenFile).
func TokenFile(dataDir string) string { return filepath.Join(dataDir, "auth", "admin.token") }

// WriteAddr records the API address ("host:port" or URL) for the CLI (mode 0600).
func WriteAddr(dataDir, addr string) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("write api address: %w", err)
	}
	if err := os.WriteFile(AddrFile(dataDir), []byte(addr+"\n"), 0o600); err != nil {
		return fmt.Errorf("write api address: %w", err)
	}
	return nil
}

// Settings are where the CLI's API address and token may come from.
type Settings struct {
	API     string // --api
	Token   string // --token
	DataDir string // --data-dir; "" = find a running dev host (FindDataDir from the working directory)
}

// Resolve picks the API address and token, each from the first source that
// has one: the flag (s.API, s.Token), the environment (SOUS_API, SOUS_TOKEN),
// then a dev host's files (<data_dir>/api.addr, <data_dir>/auth/admin.token),
// where data_dir is s.DataDir or, when that is "", the running dev host
// FindDataDir finds from the working directory.
func Resolve(s Settings) (addr, token string, err error) {
	dir, searched := s.DataDir, false
	if dir == "" {
		wd, _ := os.Getwd()
		dir, searched = FindDataDir(wd), true
	}
	addr, err = pick(s.API, "SOUS_API", dir, AddrFile)
	if err != nil {
		return "", "", err
	}
	if addr == "" {
		return "", "", fmt.Errorf("no API address: %s", notFound(dir, searched, AddrFile))
	}
	token, err = pick(s.Token, "SOUS_TOKEN", dir, TokenFile)
	if err != nil {
		return "", "", err
	}
	if token == "" {
		return "", "", fmt.Errorf("no token for the API at %s: pass --token or set SOUS_TOKEN (make one with `sous token create --config <the host's config>`), "+
			"or --data-dir of the dev host that --api / SOUS_API names (it writes %s)", addr, TokenFile("<data-dir>"))
	}
	return addr, token, nil
}

// notFound says where the CLI looked for a host and what to pass instead.
func notFound(dir string, searched bool, file func(string) string) string {
	where := "no running dev host was found (no .sous/api.addr here or in a parent directory, and none recorded in " + DevHostRecord() + ")"
	if !searched {
		where = "there is no " + file(dir) + " (is the dev host of --data-dir " + dir + " running?)"
	}
	return "pass --api (or set SOUS_API) and --token (or SOUS_TOKEN), or --data-dir of a running dev host; " + where +
		". `make run` starts a dev host"
}

// pick is flagValue, else $env, else the content of file(dataDir) ("" if none).
func pick(flagValue, env, dataDir string, fileOf func(string) string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	if dataDir == "" {
		return "", nil
	}
	file := fileOf(dataDir)
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return strings.TrimSpace(string(data)), nil
}
