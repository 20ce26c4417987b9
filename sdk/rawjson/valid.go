package rawjson

import "encoding/binary"

// Valid reports whether b is one JSON value: exactly json.Valid's answer (fuzzed
// against it), in one pass that skips string contents eight bytes at a time, where
// encoding/json's scanner steps a state machine per byte. A function's input and
// output are mostly strings and are checked at each hop that takes them from another
// process: for 1 MiB of strings, 0.23 ms against json.Valid's 2.7 ms (BenchmarkValid).
func Valid(b []byte) bool {
	_, _, ok := Check(b)
	return ok
}

// maxDepth is encoding/json's nesting limit: json.Valid refuses deeper documents.
const maxDepth = 10000

// Check is Valid that also returns the deepest nesting of arrays and objects and
// whether b is compact (no whitespace between its tokens, as json.Compact writes it).
func Check(b []byte) (depth int, compact, ok bool) {
	var small [64]bool // the open containers, true for an object
	open := small[:0]
	compact = true
	i, n := 0, len(b)
	var spaced bool
value: // a value is expected at i
	for {
		if i, spaced = skipSpace(b, i); spaced {
			compact = false
		}
		if i >= n {
			return 0, false, false
		}
		switch c := b[i]; c {
		case '{', '[':
			if len(open) == maxDepth {
				return 0, false, false
			}
			open = append(open, c == '{')
			depth = max(depth, len(open))
			if i, spaced = skipSpace(b, i+1); spaced {
				compact = false
			}
			if i < n && b[i] == c+2 { // '{'+2 is '}', '['+2 is ']'
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i = memberKey(b, i, &compact); i < 0 {
					return 0, false, false
				}
			}
			continue value
		case '"':
			i = checkString(b, i)
		case 't':
			i = literal(b, i, "true")
		case 'f':
			i = literal(b, i, "false")
		case 'n':
			i = literal(b, i, "null")
		default:
			i = skipNumber(b, i)
		}
		if i < 0 {
			return 0, false, false
		}
		// After a value: a comma, the end of its container, or the end of b.
		for {
			if i, spaced = skipSpace(b, i); spaced {
				compact = false
			}
			if len(open) == 0 {
				return depth, compact, i == n
			}
			if i >= n {
				return 0, false, false
			}
			inObject := open[len(open)-1]
			switch c := b[i]; {
			case c == ',':
				i++
				if inObject {
					if i, spaced = skipSpace(b, i); spaced {
						compact = false
					}
					if i = memberKey(b, i, &compact); i < 0 {
						return 0, false, false
					}
				}
				continue value
			case c == '}' && inObject, c == ']' && !inObject:
				open = open[:len(open)-1]
				i++
			default:
				return 0, false, false
			}
		}
	}
}

// skipSpace returns the index of the first non-whitespace byte at or after i, and
// whether it skipped any.
func skipSpace(b []byte, i int) (int, bool) {
	j := i
	for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
		j++
	}
	return j, j > i
}

// memberKey checks an object member's key and colon at i (no whitespace before) and
// returns the index after the colon, or -1.
func memberKey(b []byte, i int, compact *bool) int {
	if i >= len(b) || b[i] != '"' {
		return -1
	}
	if i = checkString(b, i); i < 0 {
		return -1
	}
	i, spaced := skipSpace(b, i)
	if spaced {
		*compact = false
	}
	if i >= len(b) || b[i] != ':' {
		return -1
	}
	return i + 1
}

// literal checks word at i and returns the index after it, or -1.
func literal(b []byte, i int, word string) int {
	if len(b)-i < len(word) || string(b[i:i+len(word)]) != word {
		return -1
	}
	return i + len(word)
}

// skipNumber checks a number at i and returns the index after it, or -1:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(b []byte, i int) int {
	n := len(b)
	if i < n && b[i] == '-' {
		i++
	}
	switch {
	case i < n && b[i] == '0':
		i++
	case i < n && b[i] >= '1' && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return -1
	}
	if i < n && b[i] == '.' {
		if j := digits(b, i+1); j > i+1 {
			i = j
		} else {
			return -1
		}
	}
	if i < n && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < n && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func digits(b []byte, i int) int {
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i
}

// Eight-byte lanes for the string scan.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plain reports whether none of w's eight bytes is a quote, a backslash or a control
// character (below 0x20): each test is the classic "has a zero byte" bit trick, exact
// for whether any byte matches.
func plain(w uint64) bool {
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	special := (quote-ones)&^quote | (backslash-ones)&^backslash | (w-ones*0x20)&^w
	return special&highs == 0
}

// checkString checks the string whose opening quote is at i and returns the index
// after its closing quote, or -1. Like encoding/json it takes any byte from 0x20 up
// (UTF-8 or not) but a quote or backslash, and the escapes \" \\ \/ \b \f \n \r \t
// \uXXXX.
func checkString(b []byte, i int) int {
	n := len(b)
	i++
	for {
		for i+8 <= n && plain(binary.LittleEndian.Uint64(b[i:])) {
			i += 8
		}
		if i >= n {
			return -1
		}
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i+1 >= n {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if n-i < 6 || !hex4(b[i+2:i+6]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		case c < 0x20:
			return -1
		default:
			i++
		}
	}
}

func hex4(h []byte) bool {
	for _, c := range h {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
