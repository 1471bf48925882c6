package inventory

import (
	"bytes"
	goldenfile "github.com/omsrun/omsrun/internal/golden"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsrun/omsrun/internal/diag"
)

// cases lists the inventory sources (files and directories) under dir.
func cases(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".golden") {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	return out
}

func goldenName(p string) string {
	return p + ".golden"
}

func TestLoadGolden(t *testing.T) {
	t.Chdir("..")
	for _, p := range cases(t, "testdata/inventory") {
		t.Run(filepath.Base(p), func(t *testing.T) {
			inv, diags := Load([]string{p})
			var buf bytes.Buffer
			if diags.HasErrors() {
				t.Fatalf("unexpected errors: %s", diags.Error())
			}
			inv.Dump(&buf)
			golden(t, goldenName(p), buf.Bytes())
		})
	}
}

func TestLoadBadGolden(t *testing.T) {
	t.Chdir("..")
	for _, p := range cases(t, "testdata/bad/inventory") {
		t.Run(filepath.Base(p), func(t *testing.T) {
			inv, diags := Load([]string{p})
			if !diags.HasErrors() {
				t.Fatalf("no error for a bad inventory")
			}
			if inv != nil {
				t.Errorf("an inventory was returned along with errors")
			}
			var buf bytes.Buffer
			if err := diag.Render(&buf, nil, diags, false); err != nil {
				t.Fatal(err)
			}
			for _, d := range diags {
				if d.Subject == nil || d.Subject.Filename == "" || d.Subject.Start.Line == 0 {
					t.Errorf("diagnostic without a position: %s", d.Error())
				}
				if d.Detail == "" {
					t.Errorf("diagnostic without a hint: %s", d.Error())
				}
			}
			golden(t, goldenName(p), buf.Bytes())
		})
	}
}

func TestLoadLargeFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "huge.ini")
	line := []byte("host-with-a-long-name ansible_host=10.0.0.1 some_var=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n")
	big := bytes.Repeat(line, diag.MaxFileSize/len(line)+1)
	if err := os.WriteFile(p, big, 0o644); err != nil {
		t.Fatal(err)
	}
	_, diags := Load([]string{p})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "larger than 10 MiB") {
		t.Fatalf("want a size error, got %v", diags)
	}
	if !strings.Contains(diags.Error(), p+":1,1") {
		t.Errorf("the error does not name the file: %v", diags)
	}
}

func golden(t *testing.T, path string, got []byte) { t.Helper(); goldenfile.Check(t, path, got) }
