package store

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// The network policy is part of the bundle: the same code deployed with another
// policy is another bundle, and the default leaves the encoding (and so every
// existing digest) as it was.
func TestBundleDigestNetwork(t *testing.T) {
	b := Bundle{Runtime: "python", Entry: "main.py", Files: map[string][]byte{"main.py": []byte("x")}}
	sum := sha256.Sum256([]byte("sous-bundle/1\n6:python,7:main.py,1:0,1:0,1:0,1:1,7:main.py,1:x,"))
	if b.Digest() != hex.EncodeToString(sum[:]) {
		t.Fatal("the default network changed the canonical encoding")
	}
	none := b.Digest()
	b.Network = "outbound"
	if b.Digest() == none {
		t.Fatal("network outbound did not change the digest")
	}
}
