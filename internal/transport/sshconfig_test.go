package transport

import (
	"reflect"
	"strings"
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
			got, err := parseSSHConfig(strings.NewReader(cfg), c.alias, "/home/u")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v\nwant %+v", got, c.want)
			}
		})
	}
}
