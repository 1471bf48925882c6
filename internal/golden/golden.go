// Package golden compares a test's output with a file under testdata/ and
// rewrites the file instead when the test runs with -update (`make golden`
// runs every package that uses it that way). Only tests import it.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Check fails t when got differs from the file at path, showing both; with
// -update it writes got to path.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (make golden creates it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (make golden rewrites it; review the diff):\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}
