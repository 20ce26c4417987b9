package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
)

// Bundle is everything a worker needs to run one version: the source files and
// the settings that change behaviour. Bundles are immutable and addressed by
// their Digest; two deploys of the same content share one stored bundle.
type Bundle struct {
	Runtime   string            `json:"runtime"`
	Entry     string            `json:"entry"`
	Vars      map[string]string `json:"vars,omitempty"`
	TimeoutMS int               `json:"timeout_ms"`
	MemoryMB  int               `json:"memory_mb"`
	Network   string            `json:"network,omitempty"` // "" (none: loopback only) | outbound | host
	Files     map[string][]byte `json:"files"`             // slash-separated relative path -> content (base64 in JSON)
	Meta                        // description and input schema (sous.yaml); see meta.go
}

// Size is the total size of the file contents in bytes.
func (b *Bundle) Size() int64 {
	var n int64
	for _, c := range b.Files {
		n += int64(len(c))
	}
	return n
}

// Digest is the lowercase hex sha256 of the bundle's canonical encoding:
//
//	"sous-bundle/1\n"
//	field("runtime") field("entry") field(timeout_ms as decimal) field(memory_mb as decimal)
//	count(vars)  then for each var sorted by name:  field(name) field(value)
//	count(files) then for each file sorted by path: field(path) field(content)
//	and, only when the network is not the default: field("network") field(network)
//
// where field(x) is the netstring "<len(x) in decimal>:<x>," and count(n) is
// field(decimal n). Length prefixes make the encoding unambiguous: no two
// different bundles share an encoding, whatever bytes names and contents hold.
// Map order and JSON formatting never change the digest.
func (b *Bundle) Digest() string {
	h := sha256.New()
	b.writeCanonical(h)
	return hex.EncodeToString(h.Sum(nil))
}

func (b *Bundle) writeCanonical(w io.Writer) {
	field := func(s string) { fmt.Fprintf(w, "%d:%s,", len(s), s) }
	io.WriteString(w, "sous-bundle/1\n")
	field(b.Runtime)
	field(b.Entry)
	field(strconv.Itoa(b.TimeoutMS))
	field(strconv.Itoa(b.MemoryMB))
	field(strconv.Itoa(len(b.Vars)))
	for _, k := range sortedKeys(b.Vars) {
		field(k)
		field(b.Vars[k])
	}
	field(strconv.Itoa(len(b.Files)))
	for _, p := range sortedKeys(b.Files) {
		field(p)
		fmt.Fprintf(w, "%d:", len(b.Files[p]))
		w.Write(b.Files[p])
		io.WriteString(w, ",")
	}
	if b.Network != "" {
		field("network")
		field(b.Network)
	}
	b.Meta.writeCanonical(field)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// GetBundle returns the bundle with this digest stored for tenant.
func (s *Store) GetBundle(tenant, digest string) (*Bundle, error) {
	if err := checkTenant(tenant); err != nil {
		return nil, err
	}
	var b Bundle
	if err := s.getJSON(bundleKey(tenant, digest), &b, "bundle "+digest); err != nil {
		return nil, err
	}
	return &b, nil
}
