package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sous-run/sous/internal/host/api/wire"
	"github.com/sous-run/sous/internal/host/store"
)

// apiError is a validation failure: status, code and a message saying what to fix.
type apiError struct {
	status  int
	code    string
	message string
}

func bad(code, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

var varNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// bundleFrom validates a deploy request against the limits and builds the bundle.
// Nothing is written until it returns without error.
func (s *Server) bundleFrom(req *wire.DeployRequest) (*store.Bundle, *apiError) {
	o := s.opts
	if req.Runtime == "" {
		return nil, bad("missing_runtime", "runtime is required: one of %s", strings.Join(o.Runtimes, ", "))
	}
	if !slices.Contains(o.Runtimes, req.Runtime) {
		return nil, &apiError{http.StatusUnprocessableEntity, "unknown_runtime",
			fmt.Sprintf("runtime %q is not available on this host: use one of %s", req.Runtime, strings.Join(o.Runtimes, ", "))}
	}
	if req.Entry == "" {
		return nil, bad("missing_entry", "entry is required: the file (path in files) that exports the handler")
	}
	if len(req.Files) == 0 {
		return nil, bad("missing_files", "files is empty: send at least the entry file as {path: base64 content}")
	}
	if len(req.Files) > o.MaxFiles {
		return nil, &apiError{http.StatusRequestEntityTooLarge, "too_many_files",
			fmt.Sprintf("%d files is over the limit of %d (limits.max_files); add a .sousignore", len(req.Files), o.MaxFiles)}
	}
	b := &store.Bundle{Runtime: req.Runtime, Entry: req.Entry, Vars: req.Vars, Files: make(map[string][]byte, len(req.Files))}
	var total int64
	for p, enc := range req.Files {
		if err := checkPath(p); err != "" {
			return nil, bad("invalid_path", "file path %q %s", p, err)
		}
		content, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return nil, bad("invalid_file", "file %q: content is not standard base64: %v", p, err)
		}
		if total += int64(len(content)); total > o.MaxBundleBytes {
			return nil, &apiError{http.StatusRequestEntityTooLarge, "bundle_too_large",
				fmt.Sprintf("bundle is over the %d-byte limit (limits.max_bundle_bytes); add a .sousignore or shrink files", o.MaxBundleBytes)}
		}
		b.Files[p] = content
	}
	if _, ok := b.Files[req.Entry]; !ok {
		return nil, &apiError{http.StatusUnprocessableEntity, "entry_not_found",
			fmt.Sprintf("entry %q is not among the uploaded files", req.Entry)}
	}
	for k := range req.Vars {
		if !varNameRe.MatchString(k) {
			return nil, bad("invalid_var", "var name %q must match [A-Za-z_][A-Za-z0-9_]*", k)
		}
	}
	if e := s.limits(req, b); e != nil {
		return nil, e
	}
	switch req.Network {
	case "", "none":
	case "outbound", "host":
		b.Network = req.Network
	default:
		return nil, &apiError{http.StatusUnprocessableEntity, "invalid_network",
			fmt.Sprintf("network %q must be none (loopback only, the default), outbound (internet, not the host) or host (trusts the function)", req.Network)}
	}
	if e := metaFrom(req, b); e != nil {
		return nil, e
	}
	return b, nil
}

// limits fills in and checks timeout and memory.
func (s *Server) limits(req *wire.DeployRequest, b *store.Bundle) *apiError {
	o := s.opts
	b.TimeoutMS, b.MemoryMB = req.TimeoutMS, req.MemoryMB
	if b.TimeoutMS == 0 {
		b.TimeoutMS = o.DefaultTimeoutMS
	}
	if b.MemoryMB == 0 {
		b.MemoryMB = o.DefaultMemoryMB
	}
	if b.TimeoutMS < 0 || b.TimeoutMS > o.MaxTimeoutMS {
		return &apiError{http.StatusUnprocessableEntity, "invalid_timeout",
			fmt.Sprintf("timeout_ms %d must be between 1 and %d (limits.max_timeout_ms)", req.TimeoutMS, o.MaxTimeoutMS)}
	}
	if b.MemoryMB < 0 || b.MemoryMB > o.MaxMemoryMB {
		return &apiError{http.StatusUnprocessableEntity, "invalid_memory",
			fmt.Sprintf("memory_mb %d must be between 1 and %d (limits.max_memory_mb)", req.MemoryMB, o.MaxMemoryMB)}
	}
	return nil
}

// checkPath returns why p is not a clean relative slash path, or "".
func checkPath(p string) string {
	switch {
	case p == "":
		return "is empty"
	case strings.HasPrefix(p, "/"):
		return "is absolute: use a path relative to the function directory"
	case strings.ContainsAny(p, "\\\x00"):
		return "contains a backslash or NUL: use forward slashes"
	case len(p) > 1024:
		return "is longer than 1024 bytes"
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "leaves the function directory (..)"
		}
	}
	if path.Clean(p) != p || p == "." {
		return "is not clean: no empty, '.' or trailing segments"
	}
	return ""
}
