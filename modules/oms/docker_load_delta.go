package oms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// Sending only the layers a host lacks. Docker's classic image store keeps
// layers by chain ID, and its docker load (checked on the lab's dockerd
// 20.10, TestDockerLoadDeltaE2E) does not open the file of a layer whose
// chain ID it already has; so an archive holding the manifest, the config
// and only the missing layers loads the same image ID. The containerd image
// store (Docker 24+ with the containerd snapshotter) imports differently and
// is not something the lab can run: there the whole file goes, as before.

// layersScript asks the host's Docker, in one command, which store it uses
// and the layer stacks of every image it holds. An image removed between the
// listing and the inspect only makes the answer smaller, which is safe: the
// verification after the load catches a layer that went missing.
const layersScript = `docker info --format '{{json .DriverStatus}}' || exit 3
echo --
ids=$(docker image ls -qa --no-trunc) || exit 3
[ -z "$ids" ] || docker image inspect --format '{{json .RootFS.Layers}}' $ids 2>/dev/null
exit 0`

// hostLayers is what layersScript found.
type hostLayers struct {
	containerd bool            // the containerd image store: no delta
	chains     map[string]bool // chain IDs of every prefix of every image's layers
}

// readHostLayers runs layersScript and parses its answer.
func readHostLayers(ctx context.Context, env *modules.Env) (*hostLayers, error) {
	out, err := env.Run(ctx, transport.Cmd{Script: layersScript})
	if err != nil {
		return nil, err
	}
	info, stacks, ok := strings.Cut(string(out.Stdout), "\n--\n")
	if !ok {
		return nil, fmt.Errorf("docker info and image listing: unexpected answer %q", textx.TailLines(string(out.Stdout), 3))
	}
	hl := &hostLayers{chains: map[string]bool{}}
	// With the containerd store, docker info's storage driver reports
	// "driver-type: io.containerd.snapshotter.v1".
	hl.containerd = strings.Contains(info, "io.containerd.snapshotter")
	for _, line := range strings.Split(stacks, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		var diffIDs []string
		if err := json.Unmarshal([]byte(line), &diffIDs); err != nil {
			return nil, fmt.Errorf("docker image inspect: unexpected layer list %q", line)
		}
		for _, c := range dockerarchive.ChainIDs(diffIDs) {
			hl.chains[c] = true
		}
	}
	return hl, nil
}

// planDelta decides whether this host gets only some layers, and says why
// not when it gets the whole file. chains are the layer chains the host
// holds, nil when a partial archive cannot go to it at all (the relay
// intersects them to send one archive to several hosts). It never fails the
// step: the whole file is always a correct answer.
func planDelta(ctx context.Context, env *modules.Env, arch *dockerarchive.Archive, keepFile bool) (d *dockerarchive.Delta, chains map[string]bool, why string) {
	if keepFile {
		return nil, nil, "" // the kept copy must be the whole package
	}
	if !hasDiffIDs(arch) {
		return nil, nil, ""
	}
	hl, err := readHostLayers(ctx, env)
	if err != nil {
		return nil, nil, fmt.Sprintf("whole file: the host's layers are unknown (%v)", err)
	}
	if hl.containerd {
		return nil, nil, "whole file: containerd image store (sending only missing layers is verified on the classic store only)"
	}
	d = arch.Delta(hl.chains)
	if d != nil && !worthDelta(d) {
		return nil, hl.chains, fmt.Sprintf("whole file: the host has only %s of its %s of layers", textx.HumanBytes(d.SkippedSize), textx.HumanBytes(d.SkippedSize+d.MissingSize))
	}
	return d, hl.chains, ""
}

// worthDelta says whether a partial archive is worth building: that costs
// decompression and recompression on the control machine, and when the host
// would be spared little, the file as it is goes faster on any link.
func worthDelta(d *dockerarchive.Delta) bool {
	return d.SkippedSize*4 >= d.SkippedSize+d.MissingSize
}

func hasDiffIDs(arch *dockerarchive.Archive) bool {
	for _, im := range arch.Images {
		if len(im.DiffIDs) == 0 {
			return false
		}
	}
	return true
}

// sendDelta streams an archive of the manifest, the config and the missing
// layers into docker load, built on the fly from the file.
func (m *DockerLoad) sendDelta(ctx context.Context, env *modules.Env, a *DockerLoadArgs, d *dockerarchive.Delta) (int64, time.Duration, error) {
	pr, pw := io.Pipe()
	built := make(chan error, 1)
	go func() {
		err := dockerarchive.WriteDelta(pw, a.File, d.Skip)
		pw.CloseWithError(err)
		built <- err
	}()
	// The compressed size is unknown ahead; the uncompressed size of the
	// missing layers is the honest upper bound for the progress line.
	prog := newProgressReader(pr, d.MissingSize, env.Report, "sent; docker load is importing the layers")
	c := transport.Cmd{Argv: []string{"docker", "load"}, Stdin: prog}
	env.Report.Phase(fmt.Sprintf("sending %d missing layers (%s before compression)", d.Missing, textx.HumanBytes(d.MissingSize)))
	start := time.Now()
	out, err := env.Run(ctx, c)
	took := time.Since(start)
	pr.CloseWithError(io.ErrClosedPipe) // stops the builder if the load ended early
	berr := <-built
	prog.flush()
	switch {
	case berr != nil && !errors.Is(berr, io.ErrClosedPipe):
		return prog.sent(), took, fmt.Errorf("building the partial archive: %w", berr)
	case err != nil:
		return prog.sent(), took, err
	case !strings.Contains(string(out.Stdout), "Loaded image"):
		return prog.sent(), took, fmt.Errorf("docker load: unexpected answer (no \"Loaded image\"): %s", textx.TailLines(string(out.Stdout)+string(out.Stderr), 5))
	}
	return prog.sent(), took, nil
}

// loadImage sends what the plan says and verifies that every image ID of
// the archive is on the host afterwards. A partial archive that fails in any
// way (refused, or loaded without producing the manifest's image ID) is
// followed by the whole file, and the returned note says so.
func (m *DockerLoad) loadImage(ctx context.Context, env *modules.Env, a *DockerLoadArgs, p *dockerLoadPlan) (sent int64, have map[string][]string, note string, err error) {
	if p.delta != nil {
		n, took, err := m.sendDelta(ctx, env, a, p.delta)
		sent = n
		if err == nil {
			have, err = imageTags(ctx, env, p.archive.IDs())
			if err == nil {
				err = missingIDs(p.archive, have)
			}
		}
		if err == nil {
			return sent, have, fmt.Sprintf("sent %s in %s: %d missing layers of %d (%d present)", textx.HumanBytes(n),
				took.Round(100*time.Millisecond), p.delta.Missing, p.delta.Missing+p.delta.Present, p.delta.Present), nil
		}
		if ctx.Err() != nil {
			return sent, nil, "", err
		}
		note = fmt.Sprintf("partial archive failed (%v); sent the whole file instead", err)
		env.Report.Warn(note)
	}
	n, took, err := m.send(ctx, env, a)
	sent += n
	if err != nil {
		return sent, nil, note, err
	}
	if have, err = imageTags(ctx, env, p.archive.IDs()); err == nil {
		err = missingIDs(p.archive, have)
	}
	msg := fmt.Sprintf("sent %s in %s (%s)", textx.HumanBytes(n), took.Round(100*time.Millisecond), rate(n, took))
	if note != "" {
		msg = note + "; " + msg
	}
	return sent, have, msg, err
}

// missingIDs fails when an image ID of the archive is not on the host: the
// image ID is the digest of the config, so its presence proves the load
// produced exactly the manifest's image.
func missingIDs(arch *dockerarchive.Archive, have map[string][]string) error {
	for _, id := range arch.IDs() {
		if _, ok := have[id]; !ok {
			return fmt.Errorf("docker load finished but image %s is not on the host", id)
		}
	}
	return nil
}
