package client

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// manifestKeys are the keys sous.yaml accepts (Manifest's yaml tags).
func manifestKeys() []string {
	t := reflect.TypeOf(Manifest{})
	keys := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			keys = append(keys, k)
		}
	}
	return keys
}

// unknownKeys returns an error naming the first top-level key of a manifest
// that Manifest does not have, the closest valid key and every valid key.
func unknownKeys(file string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil // the typed decode reports it
	}
	valid := manifestKeys()
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		if containsString(valid, k.Value) {
			continue
		}
		hint := ""
		if c := closest(k.Value, valid); c != "" {
			hint = fmt.Sprintf(" (did you mean %q?)", c)
		}
		sorted := append([]string(nil), valid...)
		sort.Strings(sorted)
		return fmt.Errorf("%s: line %d: unknown key %q%s; valid keys: %s", file, k.Line, k.Value, hint, strings.Join(sorted, ", "))
	}
	return nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// closest returns the candidate within edit distance 2 of s (or a third of its
// length, if more) with the smallest distance, or "".
func closest(s string, candidates []string) string {
	best, bestD := "", max(2, len(s)/3)+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
