package transport

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDownloadOverSFTP fetches a file through goph's SFTP client on the
// pool's connection: the bytes arrive exactly, no new SSH connection is
// made, and a missing file is an error that names it.
func TestDownloadOverSFTP(t *testing.T) {
	d := startSSHD(t)
	p := NewPool(d.config())
	defer p.Close()
	h, err := p.Get(testCtx(t), d.host("local"))
	if err != nil {
		t.Fatal(err)
	}
	want := []byte(strings.Repeat("line with 'quotes' $(x)\n", 50000) + "\x00binary\xff")
	src := filepath.Join(t.TempDir(), "a file; with spaces")
	if err := os.WriteFile(src, want, 0o600); err != nil {
		t.Fatal(err)
	}
	before := d.connections(t)
	var got bytes.Buffer
	n, err := DownloadFrom(testCtx(t), h, src, &got)
	if err != nil || n != int64(len(want)) || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("download: n=%d err=%v, equal=%v", n, err, bytes.Equal(got.Bytes(), want))
	}
	if after := d.connections(t); after != before {
		t.Errorf("download opened a new connection (%d → %d)", before, after)
	}
	if _, err := DownloadFrom(testCtx(t), h, src+".missing", &got); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: %v", err)
	}
	// The connection still runs commands after the SFTP channels closed.
	if res, err := h.Run(testCtx(t), Cmd{Argv: []string{"true"}}); err != nil || res.ExitCode != 0 {
		t.Fatalf("run after download: %v %v", res, err)
	}
	ctx, cancel := context.WithCancel(testCtx(t))
	cancel()
	if _, err := DownloadFrom(ctx, h, src, &got); err == nil {
		t.Error("a cancelled download succeeded")
	}
}
