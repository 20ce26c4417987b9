package harness

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sous-run/sous/sdk"
	"github.com/sous-run/sous/sdk/harness/sandbox"
)

// Function is a prepared bundle: its code on disk and what it runs with.
type Function struct {
	Digest   string            `json:"digest"`
	Entry    string            `json:"entry"`
	Function string            `json:"function"`
	Vars     map[string]string `json:"vars"`
	Limits   Limits            `json:"limits"`
	Network  string            `json:"network,omitempty"` // none (default) | outbound | host
	// CodeDir is where the files are (set on load, not stored).
	CodeDir string `json:"-"`
}

// ErrNotPrepared is returned by Store.Load for a digest that was never prepared.
var ErrNotPrepared = errors.New("digest not prepared")

// Store keeps prepared bundles under dir/functions/<digest>/{meta.json,code/}.
// Writes go to a temp dir renamed into place, so a bundle is either whole or absent.
type Store struct {
	dir     string
	runtime string
	mu      sync.Mutex
	loaded  map[string]*Function
}

// NewStore opens (creating) a bundle store under dir for the named runtime.
func NewStore(dir, runtime string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "functions"), 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	return &Store{dir: dir, runtime: runtime, loaded: map[string]*Function{}}, nil
}

func (s *Store) fnDir(digest string) string { return filepath.Join(s.dir, "functions", digest) }

// Prepare installs spec unless its digest is already there; cached reports which.
func (s *Store) Prepare(spec *sdk.FunctionSpec) (cached bool, err error) {
	if err := s.validate(spec); err != nil {
		return false, err
	}
	if _, err := s.Load(spec.Digest); err == nil {
		return true, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(s.dir, "functions"), ".tmp-"+spec.Digest+"-")
	if err != nil {
		return false, fmt.Errorf("prepare %s: %w", spec.Digest, err)
	}
	defer os.RemoveAll(tmp)
	for p, b := range spec.Files {
		dst := filepath.Join(tmp, "code", filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return false, fmt.Errorf("prepare %s: %w", spec.Digest, err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return false, fmt.Errorf("prepare %s: write %s: %w", spec.Digest, p, err)
		}
	}
	l := spec.Limits
	lim := Limits{TimeoutMS: l.Timeout.Milliseconds(), MemoryMB: l.MemoryMB, MaxResultBytes: l.MaxResultBytes, MaxLogBytes: l.MaxLogBytes}
	meta, _ := json.Marshal(Function{Digest: spec.Digest, Entry: spec.Entry, Function: spec.Function, Vars: spec.Vars, Limits: lim, Network: spec.Network})
	if err := os.WriteFile(filepath.Join(tmp, "meta.json"), meta, 0o644); err != nil {
		return false, fmt.Errorf("prepare %s: %w", spec.Digest, err)
	}
	if err := os.Rename(tmp, s.fnDir(spec.Digest)); err != nil {
		if _, lerr := s.Load(spec.Digest); lerr == nil {
			return true, nil // a concurrent Prepare of the same digest won
		}
		return false, fmt.Errorf("prepare %s: install: %w", spec.Digest, err)
	}
	return false, nil
}

// Load returns a prepared function, or an error wrapping ErrNotPrepared.
func (s *Store) Load(digest string) (*Function, error) {
	if !validDigest(digest) {
		return nil, fmt.Errorf("digest %q: %w", digest, ErrNotPrepared)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.loaded[digest]; ok {
		return f, nil
	}
	b, err := os.ReadFile(filepath.Join(s.fnDir(digest), "meta.json"))
	if err != nil {
		return nil, fmt.Errorf("digest %s: %w", digest, ErrNotPrepared)
	}
	var f Function
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("digest %s: corrupt meta.json: %w", digest, err)
	}
	f.CodeDir = filepath.Join(s.fnDir(digest), "code")
	s.loaded[digest] = &f
	return &f, nil
}

func (s *Store) validate(spec *sdk.FunctionSpec) error {
	if spec == nil {
		return fmt.Errorf("prepare: missing spec")
	}
	if !validDigest(spec.Digest) {
		return fmt.Errorf("prepare: digest %q must be 8-128 hex characters", spec.Digest)
	}
	if spec.Runtime != s.runtime {
		return fmt.Errorf("prepare %s: runtime %q sent to the %s executor", spec.Digest, spec.Runtime, s.runtime)
	}
	for p := range spec.Files {
		if err := validPath(p); err != nil {
			return fmt.Errorf("prepare %s: file %q: %w", spec.Digest, p, err)
		}
	}
	if _, ok := spec.Files[spec.Entry]; !ok {
		return fmt.Errorf("prepare %s: entry %q is not among the files", spec.Digest, spec.Entry)
	}
	switch spec.Network {
	case "", sandbox.NetworkNone, sandbox.NetworkOutbound, sandbox.NetworkHost:
	default:
		return fmt.Errorf("prepare %s: network %q must be none, outbound or host", spec.Digest, spec.Network)
	}
	for k := range spec.Vars {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return fmt.Errorf("prepare %s: var name %q is not a valid environment variable name", spec.Digest, k)
		}
	}
	return nil
}

// network is the function's network policy.
func (f *Function) network() string {
	if f.Network == "" {
		return sandbox.NetworkNone
	}
	return f.Network
}

func validDigest(d string) bool {
	if len(d) < 8 || len(d) > 128 {
		return false
	}
	for _, c := range d {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func validPath(p string) error {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || strings.ContainsRune(p, 0) {
		return fmt.Errorf("must be a relative slash-separated path")
	}
	for _, part := range strings.Split(p, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("must not contain empty, . or .. elements")
		}
	}
	return nil
}
