package redisconn

import "fmt"

// MaxSegment is the longest tenant, command, id or prefix accepted as a key segment.
const MaxSegment = 200

// CheckSegment refuses values that would make keys ambiguous or unreadable: a key
// segment is 1..200 characters of letters, digits and . _ - @ (no ':' so keys of one
// tenant can never be spelled by another).
func CheckSegment(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if len(s) > MaxSegment {
		return fmt.Errorf("%s is %d characters, at most %d", what, len(s), MaxSegment)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '.' || c == '_' || c == '-' || c == '@'
		if !ok {
			return fmt.Errorf("%s %q has %q at %d: use letters, digits and . _ - @", what, s, c, i)
		}
	}
	return nil
}
