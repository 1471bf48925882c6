package oms

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// ImagePrune removes the older OMS images of a node after an upgrade
// (issue 14's retention): every image of the repository but the ones to
// keep — the running image and the one a rollback starts again — and any
// image a container still uses.
type ImagePrune struct{}

var _ modules.Module = (*ImagePrune)(nil)
var _ modules.Validator = (*ImagePrune)(nil)

// ImagePruneArgs are image_prune's arguments.
type ImagePruneArgs struct {
	Repository string   `hcl:"repository"`
	Keep       []string `hcl:"keep"`
}

// Doc implements modules.Module.
func (*ImagePrune) Doc() modules.Doc {
	return modules.Doc{Name: "image_prune", Summary: "Remove a repository's images except the ones to keep and those a container uses (older OMS images after an upgrade).",
		Args: map[string]string{"repository": "the image repository, e.g. `oms`", "keep": "images never removed (the running one, the rollback's)"}}
}

// NewArgs implements modules.Module.
func (*ImagePrune) NewArgs() any { return &ImagePruneArgs{} }

// Validate implements modules.Validator.
func (*ImagePrune) Validate(a any) error {
	args := a.(*ImagePruneArgs)
	if args.Repository == "" || strings.ContainsAny(args.Repository, ": ") || strings.HasPrefix(args.Repository, "-") {
		return fmt.Errorf("repository: %q is not an image repository", args.Repository)
	}
	if len(args.Keep) == 0 {
		return errors.New("keep: name the images to keep (at least the running one)")
	}
	return nil
}

const pruneSep = "--omsrun-prune--"

// Check implements modules.Module: it lists the repository's images and
// the images containers use, and the keep list's IDs.
func (*ImagePrune) Check(ctx context.Context, env *modules.Env, a any) (*modules.Plan, error) {
	args := a.(*ImagePruneArgs)
	script := fmt.Sprintf("docker images --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' %s\necho %s\ndocker ps -a --no-trunc --format '{{.Image}}' | while read -r i; do docker image inspect --format '{{.Id}}' \"$i\" 2>/dev/null; done\necho %s\n",
		transport.Quote(args.Repository), pruneSep, pruneSep)
	for _, k := range args.Keep {
		script += fmt.Sprintf("docker image inspect --format '{{.Id}}' %s 2>/dev/null\n", transport.Quote(k))
	}
	script += "true\n"
	res, err := env.Run(ctx, transport.Cmd{Script: script})
	if err != nil {
		return nil, err
	}
	parts := strings.Split(string(res.Stdout), pruneSep+"\n")
	if len(parts) != 3 {
		return nil, fmt.Errorf("listing images: unexpected answer")
	}
	keep := strings.Fields(parts[1] + " " + parts[2])
	if len(strings.Fields(parts[2])) == 0 {
		return nil, fmt.Errorf("none of the images to keep (%v) is on the node: refusing to prune", args.Keep)
	}
	var remove []string
	for _, line := range strings.Split(parts[0], "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || slices.Contains(keep, f[0]) {
			continue
		}
		ref := f[1]
		if strings.HasSuffix(ref, ":<none>") {
			ref = f[0]
		}
		remove = append(remove, ref)
	}
	if len(remove) == 0 {
		return &modules.Plan{Summary: "no older " + args.Repository + " image"}, nil
	}
	return &modules.Plan{Change: true, Data: remove, Summary: "remove " + strings.Join(remove, ", ")}, nil
}

// Apply implements modules.Module.
func (*ImagePrune) Apply(ctx context.Context, env *modules.Env, _ any, plan *modules.Plan) (*modules.Result, error) {
	remove, _ := plan.Data.([]string)
	if len(remove) == 0 {
		return &modules.Result{Msg: plan.Summary}, nil
	}
	if _, err := env.RunArgv(ctx, append([]string{"docker", "rmi", "--"}, remove...)...); err != nil {
		return nil, err
	}
	return &modules.Result{Changed: true, Msg: "removed " + strings.Join(remove, ", ")}, nil
}
