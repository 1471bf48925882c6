package oms

import (
	"regexp"
	"strings"
	"testing"
)

// TestScaleInCommand: the command a refusal over a registered node prints
// is this run's own, on scale-in.hcl beside its playbook, with the node's
// address; what would stop it working as printed is left out or asked for.
func TestScaleInCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"deploy", []string{"/usr/bin/omsrun", "playbooks/deploy.hcl", "-i", "inventory.hcl", "-e", "@vars.hcl", "-e", "cm_nodes=[]"},
			"/usr/bin/omsrun playbooks/scale-in.hcl -i inventory.hcl -e @vars.hcl -e 'cm_nodes=[]' -e remove_node=10.0.0.13"},
		{"embedded reconfigure, --yes and --check dropped", []string{"omsrun", "-i", "inv.hcl", "reconfigure.hcl", "--yes", "-C", "--start-at-step", "config.yaml", "-e", "@v.hcl"},
			"omsrun -i inv.hcl scale-in.hcl -e @v.hcl -e remove_node=10.0.0.13"},
		{"a password on the command line is asked for", []string{"omsrun", "/opt/pb/upgrade.hcl", "-iinv", "-e", "oms_meta_password=s3cret", "-eimage=oms:x"},
			"omsrun /opt/pb/scale-in.hcl -iinv -e oms_meta_password=@ask -eimage=oms:x -e remove_node=10.0.0.13"},
		{"no playbook found", []string{"omsrun.test", "-test.run", "X"},
			"omsrun playbooks/scale-in.hcl -i <this run's inventory> -e <this run's variables> -e remove_node=10.0.0.13"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := scaleInCommand(tc.args, "10.0.0.13"); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestUpgradeRemediesFollowed follows, on the node's state as upgrade_check
// reads it, the remedies its refusals print: "finish it with -e image=…"
// (upgrade.hcl's and deploy.hcl's) resumes the upgrade in progress; "tag it
// (docker tag ID oms:feature_X.Y.Z-ce) and re-run", with the version the
// operator knows, lets the upgrade be planned; deploy.hcl's "run
// playbooks/upgrade.hcl with the same options" plans the upgrade.
func TestUpgradeRemediesFollowed(t *testing.T) {
	args := func(image, mode string) *UpgradeCheckArgs {
		return &UpgradeCheckArgs{Name: "oms", MountDir: "/data/oms", Image: image, Mode: mode}
	}
	marked := nodeUpgrade{exists: true, running: true, imageID: "sha256:0123456789abcdef0123", tags: []string{"oms:feature_4.2.5-ce"},
		hasMarker: true, marker: upgradeRecord{From: "oms:feature_4.2.5-ce", FromID: "sha256:0123456789abcdef0123", To: "oms:feature_4.2.6-ce"}}
	image := regexp.MustCompile(`-e image=([^\s,]+)`)
	_, err := upgradeState(marked, args("oms:feature_4.2.9-ce", ""))
	guard, gerr := deployGuard(marked, args("oms:feature_4.2.5-ce", "deploy"))
	if err == nil || gerr != nil {
		t.Fatalf("upgrade to another image: %v; deploy guard: %v", err, gerr)
	}
	for name, msg := range map[string]string{"upgrade.hcl": err.Error(), "deploy.hcl": guard.Outputs["refusal"].AsString()} {
		m := image.FindStringSubmatch(msg)
		if m == nil {
			t.Fatalf("%s: no -e image= in %q", name, msg)
		}
		p, err := upgradeState(marked, args(m[1], ""))
		if err != nil || p.Outputs["state"].AsString() != "resume" {
			t.Errorf("%s: following %q: %v %v", name, m[0], p, err)
		}
	}

	// deploy.hcl with a new image on a running node: "run
	// playbooks/upgrade.hcl with the same options" — the same image given to
	// upgrade.hcl's upgrade_check (mode upgrade) plans the upgrade.
	running := nodeUpgrade{exists: true, running: true, imageID: "sha256:0123456789abcdef0123", tags: []string{"oms:feature_4.2.5-ce"}}
	guard, gerr = deployGuard(running, args("oms:feature_4.2.6-ce", "deploy"))
	refusal := ""
	if guard != nil {
		refusal = guard.Outputs["refusal"].AsString()
	}
	if gerr != nil || !regexp.MustCompile(`run playbooks/(upgrade\.hcl) with the same options`).MatchString(refusal) {
		t.Fatalf("deploy of a new image on a running node: %q %v", refusal, gerr)
	}
	if p, err := upgradeState(running, args("oms:feature_4.2.6-ce", "")); err != nil || p.Outputs["state"].AsString() != "upgrade" {
		t.Errorf("upgrade.hcl with the same options: %v %v", p, err)
	}

	untagged := nodeUpgrade{exists: true, running: true, imageID: "sha256:0123456789abcdef0123"}
	_, err = upgradeState(untagged, args("oms:feature_4.2.6-ce", ""))
	m := regexp.MustCompile(`docker tag (\S+) (oms:feature_X\.Y\.Z-ce)`).FindStringSubmatch(fmtErr(err))
	if m == nil || !strings.HasPrefix(untagged.imageID, m[1]) {
		t.Fatalf("the refusal should name docker tag with the running image's id: %v", err)
	}
	// docker tag adds the tag to the image the container runs.
	untagged.tags = append(untagged.tags, strings.Replace(m[2], "X.Y.Z", "4.2.5", 1))
	if p, err := upgradeState(untagged, args("oms:feature_4.2.6-ce", "")); err != nil || p.Outputs["state"].AsString() != "upgrade" {
		t.Errorf("after docker tag: %v %v", p, err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
