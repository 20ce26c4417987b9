package harness

import (
	"bufio"
	"errors"
	"io"
)

// cappedLine is one line read from fd 3. When the line was longer than the cap its
// content is cut to the first bytes (enough to tell its type) and Over is set.
type cappedLine struct {
	B    []byte
	Over bool
}

// readCapped reads the next line of at most max bytes, consuming (and dropping) the
// rest of a longer line so the stream stays in sync.
func readCapped(r *bufio.Reader, max int) (cappedLine, error) {
	var out []byte
	over := false
	for {
		frag, err := r.ReadSlice('\n')
		if !over {
			if len(out)+len(frag) > max+1 {
				over = true
				keep := min(len(frag), 256)
				out = append(out, frag[:keep]...)
			} else {
				out = append(out, frag...)
			}
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(out) > 0 && !over {
			return cappedLine{B: out}, nil
		}
		return cappedLine{}, err
	}
	if n := len(out); !over && n > 0 && out[n-1] == '\n' {
		out = out[:n-1]
	}
	return cappedLine{B: out, Over: over}, nil
}
