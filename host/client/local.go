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
	DataDir string // --data-dir (default .sous)
}

// Resolve picks the API address and token, each from the first source that
// has one: the flag (s.API, s.Token), the environment (SOUS_API, SOUS_TOKEN),
// then the dev host's files (<data_dir>/api.addr, <data_dir>/auth/admin.token).
func Resolve(s Settings) (addr, token string, err error) {
	dir := s.DataDir
	if dir == "" {
		dir = DefaultDataDir
	}
	addr, err = pick(s.API, "SOUS_API", AddrFile(dir))
	if err != nil {
		return "", "", err
	}
	if addr == "" {
		return "", "", fmt.Errorf("no API address: pass --api, set SOUS_API, or start `sous dev` here (it writes %s)", AddrFile(dir))
	}
	token, err = pick(s.Token, "SOUS_TOKEN", TokenFile(dir))
	if err != nil {
		return "", "", err
	}
	if token == "" {
		return "", "", fmt.Errorf("no token: pass --token, set SOUS_TOKEN, or start `sous dev` here (it writes %s)", TokenFile(dir))
	}
	return addr, token, nil
}

func pick(flagValue, env, file string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := os.Getenv(env); v != "" {
		return v, nil
	}
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	return strings.TrimSpace(string(data)), nil
}
