package envelope

import "strconv"

// Stamp returns raw with "ts":ms added as its first field, without decoding or
// re-encoding the rest: for an envelope received without a time (chunk, result,
// error), stamped once where it enters the host. raw must be a JSON object that
// has no "ts" yet (the caller decoded it and saw TS == 0).
func Stamp(raw []byte, ms int64) []byte {
	if len(raw) < 2 || raw[0] != '{' {
		return raw
	}
	out := make([]byte, 0, len(raw)+22)
	out = append(out, `{"ts":`...)
	out = strconv.AppendInt(out, ms, 10)
	if rest := raw[1:]; len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, raw[1:]...)
}
