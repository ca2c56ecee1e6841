package tailer

import (
	"bufio"
	"context"
	"fmt"
	"io"
)

// ReadStream sends every line of r (stdin, a pipe) as source, until r ends.
// Streams cannot be re-read, so their lines carry no position.
func ReadStream(ctx context.Context, source string, r io.Reader, maxLineBytes int, obs Observer, out chan<- []Line) error {
	if maxLineBytes <= 0 {
		maxLineBytes = 64 << 10
	}
	if obs == nil {
		obs = NopObserver{}
	}
	br := bufio.NewReaderSize(r, 64<<10)
	var batch []Line
	for {
		text, cut, err := readLine(br, maxLineBytes)
		if err != nil && err != io.EOF {
			if serr := send(ctx, out, batch); serr != nil {
				return serr
			}
			return fmt.Errorf("read %s: %w", source, err)
		}
		if err == nil || text != "" || cut {
			if cut {
				obs.LineCut(source)
			}
			batch = append(batch, Line{Source: source, Text: text, Cut: cut})
		}
		var serr error
		if batch, serr = sendBefore(ctx, out, br, batch); serr != nil {
			return serr
		}
		if err == io.EOF {
			return nil
		}
	}
}

// readLine reads one line, keeping at most max bytes of it. At the end of
// the input it returns the unfinished last line (if any) with io.EOF.
func readLine(br *bufio.Reader, max int) (string, bool, error) {
	var buf []byte
	cut := false
	for {
		frag, err := br.ReadSlice('\n')
		n := len(frag)
		if n > 0 && frag[n-1] == '\n' {
			frag = frag[:n-1]
		}
		if room := max - len(buf); len(frag) > room {
			frag = frag[:room]
			cut = true
		}
		buf = append(buf, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		return string(buf), cut, err
	}
}
