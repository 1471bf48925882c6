package oms

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/omsrun/omsrun/internal/filehash"
	"github.com/omsrun/omsrun/internal/remotefile"
	"github.com/omsrun/omsrun/modules"
)

// copyCerts puts the certificate and key on the host with the shared file
// writer: in place (the container bind-mounts each as a single file), backed
// up and restored if the write fails.
func (*ContainerRun) copyCerts(ctx context.Context, env *modules.Env, a *ContainerRunArgs) error {
	crt, key := a.certPaths()
	if _, err := env.RunArgv(ctx, "mkdir", "-p", path.Dir(crt)); err != nil {
		return err
	}
	for _, f := range []struct {
		src, dst string
		mode     fs.FileMode
	}{{a.HTTPSCrt, crt, 0o644}, {a.HTTPSKey, key, 0o600}} {
		content, err := os.ReadFile(f.src)
		if err != nil {
			return err
		}
		if _, err := remotefile.Write(ctx, env.Host, remotefile.File{Path: f.dst, Content: content, Mode: f.mode, Become: env.Become}); err != nil {
			return fmt.Errorf("copying %s: %w", f.src, err)
		}
	}
	return nil
}

// certsDiffer compares the local files' digests with sha256sum's answer.
func certsDiffer(localCrt, localKey, crt, key, sums string) (bool, error) {
	remote := map[string]string{}
	for _, line := range strings.Split(sums, "\n") {
		line = strings.TrimSpace(line)
		// GNU sha256sum escapes a name holding a backslash or a line break
		// and then starts the line with a backslash.
		escaped := strings.HasPrefix(line, `\`)
		if sum, name, ok := strings.Cut(strings.TrimPrefix(line, `\`), "  "); ok {
			if escaped {
				name = sumNameUnescaper.Replace(name)
			}
			remote[name] = sum
		}
	}
	for _, f := range [][2]string{{localCrt, crt}, {localKey, key}} {
		sum, err := filehash.SHA256(f[0])
		if err != nil {
			return false, err
		}
		if remote[f[1]] != sum {
			return true, nil
		}
	}
	return false, nil
}

var sumNameUnescaper = strings.NewReplacer(`\\`, `\`, `\n`, "\n", `\r`, "\r")
