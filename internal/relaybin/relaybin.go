// Package relaybin holds the relay's node program (cmd/omsrun-relay) for
// each Linux platform a node may run, gzipped and embedded by make build:
// the image relay (modules/oms, issue 19) places it on every node for the
// transfer, 1.4 MB through the control machine's link instead of omsrun's
// own 5.5 MB.
//
// make build writes the programs into helpers/ and links their SHA-256 into
// sums in the same go. A binary built any other way (go build, go vet, go
// test on a fresh clone) embeds only helpers/README.md, sums is empty, and
// Helper reports nothing: the caller then places omsrun itself. Because a
// program is used only when the link stamped its checksum, one left in
// helpers/ by an earlier make build (older relay code) is never picked up
// by a later plain go build.
package relaybin

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"io/fs"
	"path"
	"strings"
)

//go:embed helpers
var helpers embed.FS

// sums is set by the linker (make build): "linux/amd64=<sha256>,…", the
// checksums of the uncompressed programs embedded in helpers/.
var sums string

// FileName is the gzipped program for a platform, in helpers/.
func FileName(goos, goarch string) string {
	return "omsrun-relay-" + goos + "-" + goarch + ".gz"
}

// Helper returns the gzipped node program for goos/goarch and the SHA-256
// of the program itself; ok is false when this omsrun was built without
// one for that platform.
func Helper(goos, goarch string) (gz []byte, sum string, ok bool) {
	return lookup(helpers, sums, goos, goarch)
}

// lookup finds the program for goos/goarch in fsys and checks it against
// its stamped checksum: a file that does not match is not used at all.
func lookup(fsys fs.FS, sums, goos, goarch string) ([]byte, string, bool) {
	want := ""
	for _, kv := range strings.Split(sums, ",") {
		if p, s, found := strings.Cut(kv, "="); found && p == goos+"/"+goarch {
			want = s
		}
	}
	if want == "" {
		return nil, "", false
	}
	gz, err := fs.ReadFile(fsys, path.Join("helpers", FileName(goos, goarch)))
	if err != nil {
		return nil, "", false
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, "", false
	}
	h := sha256.New()
	if _, err := io.Copy(h, zr); err != nil {
		return nil, "", false
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		return nil, "", false
	}
	return gz, want, true
}
