package oms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/internal/dockerarchive"
	"github.com/omsrun/omsrun/internal/textx"
	"github.com/omsrun/omsrun/internal/transport"
	"github.com/omsrun/omsrun/modules"
)

// DockerLoad puts the images of a docker-archive tarball on the control
// machine into the host's Docker. When the host already has the image IDs
// the tarball's manifest names, nothing is sent.
type DockerLoad struct {
	archives *dockerarchive.Cache
}

var _ modules.Module = (*DockerLoad)(nil)
var _ modules.Validator = (*DockerLoad)(nil)

// archiveCache is shared by every docker_load of the process: it only memoises
// immutable facts about files (keyed by path, size and mtime), and sharing it
// is what lets three hosts starting at once decompress a large tarball once.
var archiveCache = dockerarchive.NewCache(dockerarchive.DefaultDir())

// NewDockerLoad returns a docker_load sharing the process's archive cache.
func NewDockerLoad() *DockerLoad { return &DockerLoad{archives: archiveCache} }

// DockerLoadArgs are the arguments of docker_load.
type DockerLoadArgs struct {
	File     string `hcl:"file"`
	Tag      string `hcl:"tag,optional"`
	KeepFile bool   `hcl:"keep_file,optional"`
	Dest     string `hcl:"dest,optional"`
	// Relay nil means on: the default is the fast path.
	Relay     *bool `hcl:"relay,optional"`
	RelayPort int   `hcl:"relay_port,optional"`
}

// Doc describes the module.
func (*DockerLoad) Doc() modules.Doc {
	return modules.Doc{
		Name:    "docker_load",
		Summary: "Stream a docker-archive tarball (docker save, .tar or .tar.gz) from the control machine into the host's docker load; sends nothing when the image ID is present, and only the layers the host lacks when it has some (classic image store; the whole file otherwise or when that fails).",
		Args: map[string]string{
			"file":       "the tarball on the control machine",
			"tag":        "also name the image so (docker tag), e.g. the reference the playbook runs",
			"keep_file":  "keep a copy of the tarball on the host (default false: streamed, no temporary file); the whole file is then always sent",
			"dest":       "where keep_file puts the copy (default /var/tmp/omsrun/<file name>)",
			"relay":      "when several hosts need the image, send it (or the layers none of them has) once and let the nodes pass it on to each other (default true; false: one copy per host from the control machine)",
			"relay_port": fmt.Sprintf("TCP port a node listens on, on its inventory address, for the node before it during the transfer (default %d)", DefaultRelayPort),
		},
	}
}

// NewArgs returns empty arguments.
func (*DockerLoad) NewArgs() any { return &DockerLoadArgs{} }

// Validate reads the tarball's manifest on the control machine, so a wrong
// path or a file that is not an image fails before any host is touched.
func (m *DockerLoad) Validate(args any) error {
	a := args.(*DockerLoadArgs)
	if a.File == "" {
		return errors.New("file: give the image tarball")
	}
	if _, err := m.archives.Read(a.File); err != nil {
		return fmt.Errorf("file: %w", err)
	}
	if a.RelayPort < 0 || a.RelayPort > 65535 {
		return fmt.Errorf("relay_port: %d is not a TCP port", a.RelayPort)
	}
	if strings.HasPrefix(a.Tag, "-") {
		return fmt.Errorf("tag: %q is not an image reference (docker would read it as an option)", a.Tag)
	}
	return nil
}

// dockerLoadPlan is what Check learnt, for Apply.
type dockerLoadPlan struct {
	archive *dockerarchive.Archive
	send    bool
	delta   *dockerarchive.Delta // nil: the whole file
	chains  map[string]bool      // the host's layer chains; nil: no partial archive can go to it
	tags    []string             // names to apply with docker tag
}

// Check asks the host's Docker, in one command, which of the tarball's image
// IDs it has and under which names.
func (m *DockerLoad) Check(ctx context.Context, env *modules.Env, args any) (*modules.Plan, error) {
	a := args.(*DockerLoadArgs)
	arch, err := m.archives.Read(a.File)
	if err != nil {
		return nil, err
	}
	have, err := imageTags(ctx, env, arch.IDs())
	if err != nil {
		return nil, err
	}
	p := &dockerLoadPlan{archive: arch}
	var absent []string
	for _, id := range arch.IDs() {
		if _, ok := have[id]; !ok {
			absent = append(absent, imageShortID(id))
		}
	}
	if a.relayOn() {
		// A host that has the image can be the source for the others.
		env.Group.Put(env.HostName, &relayMember{env: env, have: len(absent) == 0})
	}
	if len(absent) > 0 {
		p.send = true
		if a.Tag != "" {
			p.tags = []string{a.Tag}
		}
		var why string
		p.delta, p.chains, why = planDelta(ctx, env, arch, a.KeepFile)
		what := "send " + textx.HumanBytes(arch.Size)
		if p.delta != nil {
			what = fmt.Sprintf("send %d missing layers of %d (%s before compression; %d present)", p.delta.Missing,
				p.delta.Missing+p.delta.Present, textx.HumanBytes(p.delta.MissingSize), p.delta.Present)
		} else if why != "" {
			what += ", " + why
		}
		return &modules.Plan{Change: true, Data: p,
			Summary: fmt.Sprintf("%s (image %s absent)", what, strings.Join(absent, ", "))}, nil
	}
	p.tags = missingTags(arch, a.Tag, have)
	if len(p.tags) > 0 {
		return &modules.Plan{Change: true, Data: p,
			Summary: fmt.Sprintf("tag %s (image present, nothing to send)", strings.Join(p.tags, ", "))}, nil
	}
	return &modules.Plan{Summary: "image " + strings.Join(imageShortIDs(arch.IDs()), ", ") + " present"}, nil
}

// Apply sends the tarball when needed, verifies the result and applies tags.
func (m *DockerLoad) Apply(ctx context.Context, env *modules.Env, args any, plan *modules.Plan) (*modules.Result, error) {
	a := args.(*DockerLoadArgs)
	p, ok := plan.Data.(*dockerLoadPlan)
	if !ok {
		return nil, errors.New("docker_load: apply without a plan from check")
	}
	res := &modules.Result{Changed: true, Outputs: map[string]cty.Value{
		"image_id":   cty.StringVal(p.archive.Images[0].ID),
		"bytes_sent": cty.NumberIntVal(0),
	}}
	var msgs []string
	if !p.send {
		env.Group.Finish(env.HostName)
	}
	if p.send {
		var n int64
		var have map[string][]string
		var note string
		var err error
		relayed := false
		if a.relayOn() && !a.KeepFile {
			n, have, note, relayed, err = m.relayLoad(ctx, env, a, p)
		} else {
			env.Group.Finish(env.HostName) // nobody waits for a host loading on its own
		}
		if !relayed {
			n, have, note, err = m.loadImage(ctx, env, a, p)
		}
		if err != nil {
			return nil, err
		}
		res.Outputs["bytes_sent"] = cty.NumberIntVal(n)
		msgs = append(msgs, note+", loaded "+strings.Join(append(imageShortIDs(p.archive.IDs()), p.archive.Tags()...), " "))
		p.tags = missingTags(p.archive, a.Tag, have)
	}
	for _, tag := range p.tags {
		if _, err := env.RunArgv(ctx, "docker", "tag", p.archive.Images[0].ID, tag); err != nil {
			return nil, err
		}
	}
	if len(p.tags) > 0 {
		msgs = append(msgs, "tagged "+strings.Join(p.tags, ", "))
	}
	res.Msg = strings.Join(msgs, "; ")
	return res, nil
}

// send streams the tarball into docker load through the session's stdin.
func (m *DockerLoad) send(ctx context.Context, env *modules.Env, a *DockerLoadArgs) (int64, time.Duration, error) {
	f, err := os.Open(a.File)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	pr := newProgressReader(f, st.Size(), env.Report, "sent; docker load is importing the layers")
	c := transport.Cmd{Argv: []string{"docker", "load"}, Stdin: pr}
	if a.KeepFile {
		dest := a.Dest
		if dest == "" {
			dest = path.Join("/var/tmp/omsrun", filepath.Base(a.File))
		} else if !path.IsAbs(dest) {
			// mkdir, mv and docker would read a relative "-x" as an option.
			dest = "./" + dest
		}
		q := transport.Quote(dest)
		// Written beside the destination and renamed, so an interrupted
		// transfer never leaves a file that looks complete.
		c = transport.Cmd{Stdin: pr, Script: fmt.Sprintf("mkdir -p %s && cat > %s.part && mv -f %s.part %s && docker load -i %s",
			transport.Quote(path.Dir(dest)), q, q, q, q)}
	}
	env.Report.Phase("sending " + textx.HumanBytes(st.Size()))
	start := time.Now()
	out, err := env.Run(ctx, c)
	took := time.Since(start)
	pr.flush()
	if err != nil {
		return pr.sent(), took, fmt.Errorf("loading %s: %w", a.File, err)
	}
	if !strings.Contains(string(out.Stdout), "Loaded image") {
		return pr.sent(), took, fmt.Errorf("%s: unexpected answer (no \"Loaded image\"): %s", modules.CmdText(c), textx.TailLines(string(out.Stdout)+string(out.Stderr), 5))
	}
	return pr.sent(), took, nil
}

// imageTags asks Docker about the given IDs in one command and returns the
// present ones with their repo tags. A missing image is an answer, not an
// error; a daemon that does not answer is an error.
func imageTags(ctx context.Context, env *modules.Env, ids []string) (map[string][]string, error) {
	// json rather than join: a newer client talking to an older daemon
	// decodes RepoTags generically, and join then refuses it.
	argv := append([]string{"docker", "image", "inspect", "--format", `{{.Id}} {{json .RepoTags}}`}, ids...)
	res, err := env.Try(ctx, transport.Cmd{Argv: argv})
	if err != nil {
		return nil, err
	}
	have := map[string][]string{}
	for _, line := range strings.Split(string(res.Stdout), "\n") {
		id, tags, _ := strings.Cut(strings.TrimSpace(line), " ")
		if id == "" {
			continue
		}
		var list []string
		if err := json.Unmarshal([]byte(tags), &list); err != nil && tags != "" && tags != "null" {
			return nil, fmt.Errorf("%s: unexpected answer %q", transport.Join(argv), line)
		}
		have[id] = list
	}
	if res.ExitCode != 0 && !strings.Contains(strings.ToLower(string(res.Stderr)), "no such image") {
		return nil, &modules.CommandError{Cmd: transport.Join(argv), ExitCode: res.ExitCode, Stderr: string(res.Stderr)}
	}
	return have, nil
}

// missingTags lists the names (the tarball's own and tag) that do not yet
// point at the first image.
func missingTags(arch *dockerarchive.Archive, tag string, have map[string][]string) []string {
	want := arch.Images[0].RepoTags
	if tag != "" {
		want = append(append([]string(nil), want...), tag)
	}
	present := map[string]bool{}
	for _, t := range have[arch.Images[0].ID] {
		present[normalTag(t)] = true
	}
	var missing []string
	for _, t := range want {
		if !present[normalTag(t)] {
			missing = append(missing, t)
			present[normalTag(t)] = true
		}
	}
	return missing
}

// normalTag writes a reference the way docker lists it: without the default
// registry and with ":latest" when no tag is given.
func normalTag(ref string) string {
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	if !strings.Contains(ref[strings.LastIndex(ref, "/")+1:], ":") && !strings.Contains(ref, "@") {
		ref += ":latest"
	}
	return ref
}

func imageShortID(id string) string {
	if h := strings.TrimPrefix(id, "sha256:"); len(h) > 12 {
		return h[:12]
	}
	return id
}

func imageShortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = imageShortID(id)
	}
	return out
}

func rate(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return textx.HumanBytes(int64(float64(n)/d.Seconds())) + "/s"
}
