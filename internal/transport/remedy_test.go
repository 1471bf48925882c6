package transport

import (
	"regexp"
	"testing"
)

// TestNoCredentialsRemedy: with no key, password or agent the dial names
// what to set; following the first remedy as printed — key_file in the
// inventory — connects (issue #14 point 7, docs/remedies.md).
func TestNoCredentialsRemedy(t *testing.T) {
	d := startSSHD(t)
	t.Setenv("HOME", t.TempDir())
	t.Setenv("SSH_AUTH_SOCK", "")
	p := NewPool(d.config())
	defer p.Close()
	hi := d.host("bare")
	key := hi.KeyFile
	hi.KeyFile = ""
	_, err := p.Get(testCtx(t), hi)
	m := regexp.MustCompile(`no SSH credentials: set (key_file) or password in the inventory`).FindStringSubmatch(errText(err))
	if m == nil {
		t.Fatalf("want the no-credentials remedy, got %v", err)
	}
	follow := d.host("keyed")
	follow.KeyFile = "" // the remedy: set key_file
	if m[1] == "key_file" {
		follow.KeyFile = key
	}
	if _, err := p.Get(testCtx(t), follow); err != nil {
		t.Fatalf("after setting %s as printed: %v", m[1], err)
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
