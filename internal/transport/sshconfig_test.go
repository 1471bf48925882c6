package transport

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseSSHConfig(t *testing.T) {
	const cfg = `
# global settings apply unless a block set them first
IdentityFile ~/.ssh/global

Host bastion
  HostName 192.0.2.1
  User jump
  Port 2222

Host web-* !web-old
  HostName=%h.example.net
  User "deploy"
  ProxyJump bastion
  IdentityFile ~/.ssh/web

Match host web-1
  User matched

Match exec "test -e /nonexistent"
  User never

Host *
  User fallback
  Port 22
  IdentityFile /etc/shared_key
`
	cases := []struct {
		alias string
		want  sshConfig
	}{
		{"bastion", sshConfig{HostName: "192.0.2.1", User: "jump", Port: 2222,
			IdentityFiles: []string{"/home/u/.ssh/global", "/etc/shared_key"}}},
		{"web-1", sshConfig{HostName: "web-1.example.net", User: "deploy", Port: 22, ProxyJump: "bastion",
			IdentityFiles: []string{"/home/u/.ssh/global", "/home/u/.ssh/web", "/etc/shared_key"}}},
		{"web-old", sshConfig{User: "fallback", Port: 22,
			IdentityFiles: []string{"/home/u/.ssh/global", "/etc/shared_key"}}},
		{"other", sshConfig{User: "fallback", Port: 22,
			IdentityFiles: []string{"/home/u/.ssh/global", "/etc/shared_key"}}},
	}
	for _, c := range cases {
		t.Run(c.alias, func(t *testing.T) {
			got, err := parseSSHConfig([]byte(cfg), c.alias, "/home/u")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestSSHConfigInclude: Include is followed (a glob; a relative one is
// relative to ~/.ssh, as OpenSSH does for the user's file), so settings kept
// in a separate file apply.
func TestSSHConfigInclude(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".ssh")
	os.MkdirAll(filepath.Join(dir, "config.d"), 0o700)
	os.WriteFile(filepath.Join(dir, "config.d", "oms.conf"), []byte("Host oms*\n  HostName 10.0.0.%h\n  User admin\n  Port 2200\n"), 0o600)
	main := filepath.Join(dir, "config")
	os.WriteFile(main, []byte("Include "+filepath.Join(dir, "config.d")+"/*.conf\n\nHost *\n  User fallback\n"), 0o600)
	got, err := lookupSSHConfig(main, "oms1")
	if err != nil {
		t.Fatal(err)
	}
	if got.User != "admin" || got.Port != 2200 || got.HostName != "10.0.0.oms1" {
		t.Fatalf("got %+v; the included file was not applied", got)
	}
	if got, _ := lookupSSHConfig(main, "other"); got.User != "fallback" {
		t.Fatalf("other host: %+v", got)
	}
}
