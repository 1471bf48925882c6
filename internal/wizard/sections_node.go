package wizard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/secret"
)

func (w *Wizard) askNodeSetup(_ context.Context, a *Answers) error {
	for {
		w.heading("Nodes")
		before := w.typed
		var err error
		if a.MountDir, err = w.ask(question{key: "mount-dir", prompt: "Directory on each node that the OMS container mounts (use one with a large capacity)",
			def: orString(a.MountDir, "/data/oms"), check: checkMountDir}); err != nil {
			return err
		}
		var tags []string
		if a.ImageFile, err = w.ask(question{key: "image-file", prompt: "OMS package (.tar.gz) on this machine", def: a.ImageFile,
			check: w.imagePackage("the OMS package, e.g. ./oms_4.2.5-ce.tar.gz", &tags)}); err != nil {
			return err
		}
		def := a.Image
		if def == "" && len(tags) > 0 {
			def = tags[0]
		}
		if a.Image, err = w.ask(question{key: "image", prompt: "Name the OMS image as (OMS_IMAGE)", def: def, check: checkImage}); err != nil {
			return err
		}
		if len(tags) > 0 && a.Image != "" && !contains(tags, a.Image) {
			fmt.Fprintf(w.Out, "  The package names the image %s; it will also be tagged %s.\n", strings.Join(tags, ", "), a.Image)
		}
		ok, err := w.confirm(before)
		if err != nil || ok {
			return err
		}
	}
}

func (w *Wizard) askSSL(_ context.Context, a *Answers) error {
	for {
		w.heading("SSL certificate")
		before := w.typed
		on, err := w.askYesNo("ssl", "Install an SSL certificate for the OMS container?", a.HTTPSCrt != "")
		if err != nil {
			return err
		}
		if !on {
			a.HTTPSCrt, a.HTTPSKey = "", ""
			return nil
		}
		if a.HTTPSCrt, err = w.ask(question{key: "https-crt", prompt: "https_crt: certificate file on this machine", def: a.HTTPSCrt,
			check: func(s string) (string, error) { return w.existingFile(s, "the certificate file") }}); err != nil {
			return err
		}
		if a.HTTPSKey, err = w.ask(question{key: "https-key", prompt: "https_key: key file on this machine", def: a.HTTPSKey,
			check: func(s string) (string, error) { return w.existingFile(s, "the key file") }}); err != nil {
			return err
		}
		ok, err := w.confirm(before)
		if err != nil || ok {
			return err
		}
	}
}

func (w *Wizard) askLogon(_ context.Context, a *Answers) error {
	for {
		w.heading("Logging on to the nodes")
		before := w.typed
		var err error
		if a.SSHUser, err = w.ask(question{key: "ssh-user", prompt: "User", def: orString(a.SSHUser, "root"), check: checkUser}); err != nil {
			return err
		}
		defKey := a.SSHKey
		if defKey == "" {
			defKey = w.defaultKey()
		}
		authDef := "key"
		if _, keyGiven := w.Preset["ssh-key"]; defKey == "" && !keyGiven {
			authDef = "password"
		}
		auth, err := w.ask(question{key: "ssh-auth", prompt: "Log on with a key or a password (key/password)", def: authDef, check: func(s string) (string, error) {
			switch strings.ToLower(s) {
			case "key", "k":
				return "key", nil
			case "password", "p", "pass":
				return "password", nil
			}
			return "", fmt.Errorf("answer key or password, not %q", s)
		}})
		if err != nil {
			return err
		}
		a.SSHKey, a.SSHPassword = "", ""
		if auth == "key" {
			if a.SSHKey, err = w.ask(question{key: "ssh-key", prompt: "Private key file", def: defKey,
				check: func(s string) (string, error) { return w.existingFile(s, "the private key file") }}); err != nil {
				return err
			}
		} else {
			pw, err := w.ask(question{key: "ssh-password", prompt: "Password of " + a.SSHUser, secret: true, check: required("the password to log on with")})
			if err != nil {
				return err
			}
			a.SSHPassword = secret.String(pw)
		}
		if a.KnownHosts, err = w.ask(question{key: "known-hosts", prompt: "known_hosts file with the nodes' host keys (empty: ~/.ssh/known_hosts)", def: a.KnownHosts,
			check: func(s string) (string, error) {
				if s == "" {
					return "", nil
				}
				return w.existingFile(s, "a known_hosts file")
			}}); err != nil {
			return err
		}
		a.Become, a.BecomePassword = false, ""
		if a.SSHUser != "root" {
			// The seed: the user must have sudo privileges on the remote node.
			if a.Become, err = w.askYesNo("become", "Use sudo on the nodes?", true); err != nil {
				return err
			}
			if a.Become {
				pw, err := w.ask(question{key: "become-password", prompt: "sudo password (empty: passwordless sudo)", secret: true,
					check: func(s string) (string, error) { return s, nil }})
				if err != nil {
					return err
				}
				a.BecomePassword = secret.String(pw)
			}
		}
		ok, err := w.confirm(before)
		if err != nil || ok {
			return err
		}
	}
}

func (w *Wizard) askSecrets(_ context.Context, a *Answers) error {
	w.heading("Passwords")
	fmt.Fprintln(w.Out, "  file: written into the files this writes, readable by you only (mode 0600)")
	fmt.Fprintln(w.Out, "  env:  not written; you set environment variables before each run")
	var err error
	a.Secrets, err = w.ask(question{key: "secrets", prompt: "Where should the passwords go (file/env)", def: orString(a.Secrets, SecretsFile),
		check: func(s string) (string, error) {
			switch strings.ToLower(s) {
			case SecretsFile, SecretsEnv:
				return strings.ToLower(s), nil
			}
			return "", fmt.Errorf("answer file or env, not %q", s)
		}})
	return err
}

// defaultKey is the first usual private key that exists.
func (w *Wizard) defaultKey() string {
	if w.HomeDir == "" {
		return ""
	}
	for _, name := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
		p := filepath.Join(w.HomeDir, ".ssh", name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// existingFile expands ~ and checks that s names a readable regular file.
func (w *Wizard) existingFile(s, what string) (string, error) {
	if s == "" {
		return "", errors.New("give " + what)
	}
	p := s
	if w.HomeDir != "" && (p == "~" || strings.HasPrefix(p, "~/")) {
		p = filepath.Join(w.HomeDir, p[1:])
	}
	f, err := os.Open(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s does not exist", s)
		}
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", s)
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	return p, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// imagePackage checks an answer naming a docker image package on this
// machine (what, e.g. …, says which when it is not there): the file must
// exist and be one. tags receives the names its manifest gives, the next
// question's default name.
func (w *Wizard) imagePackage(what string, tags *[]string) func(string) (string, error) {
	return func(s string) (string, error) {
		p, err := w.existingFile(s, what)
		if err != nil {
			return "", err
		}
		arc, err := dockerarchive.Read(p)
		if err != nil {
			return "", fmt.Errorf("%s is not a docker image package: %v", s, err)
		}
		*tags = arc.Tags()
		return p, nil
	}
}
