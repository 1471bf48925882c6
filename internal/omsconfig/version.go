package omsconfig

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Version is an OMS release number, as its image tag names it
// (feature_4.2.5-ce, 4.2.11, oms-ce:4.2.9-CE).
type Version struct{ Major, Minor, Patch int }

func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare is -1, 0 or 1 as v is older than, the same as or newer than w.
func (v Version) Compare(w Version) int {
	for _, d := range []int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d != 0 {
			if d < 0 {
				return -1
			}
			return 1
		}
	}
	return 0
}

var versionRE = regexp.MustCompile(`(?:^|[^0-9.])([0-9]+)\.([0-9]+)\.([0-9]+)(?:[^0-9.]|$)`)

// ImageVersion reads the OMS version from an image reference's tag (the
// part after the last colon past the last slash): OMS CE images carry it
// there (oms:feature_4.2.5-ce; docs/oms-facts.md R9).
func ImageVersion(ref string) (Version, error) {
	tag := ref
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		tag = ref[i+1:]
	}
	if i := strings.LastIndex(tag, ":"); i >= 0 {
		tag = tag[i+1:]
	} else {
		tag = ""
	}
	m := versionRE.FindStringSubmatch(tag)
	if m == nil {
		return Version{}, fmt.Errorf("image %q: its tag names no OMS version (like feature_4.2.5-ce)", ref)
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	v.Patch, _ = strconv.Atoi(m[3])
	return v, nil
}

// minUpgradeSource is obd's floor: upgrade_pre.py refuses a deployment
// older than 4.1.1 ("Must be higher than 4.1.1"); docs/oms-facts.md U1.
var minUpgradeSource = Version{4, 1, 1}

// hop is a documented target with the sources its upgrade page accepts.
type hop struct {
	to       Version
	from     []Version // exact versions, or
	min, max Version   // an inclusive range when from is empty
	source   string
}

// documentedHops are the targets whose CE upgrade page names the versions
// it upgrades from (docs/oms-facts.md U2). A target not listed is allowed
// from any version at or above the floor: no source we read restricts it.
var documentedHops = []hop{
	{to: Version{4, 2, 3}, from: []Version{{4, 1, 0}, {4, 2, 2}}, source: "CE docs upgrade to V4.2.3 (community-oms-en-10000000001219089): from 4.1.0 or 4.2.2; older versions go to 4.1.0 first"},
	// The two 4.2.6 pages disagree (4.2.4, 4.2.5): both are accepted.
	{to: Version{4, 2, 6}, from: []Version{{4, 2, 4}, {4, 2, 5}}, source: "CE docs upgrade to V4.2.6 (community-oms-en-10000000001657966, …1657968): from 4.2.4 or 4.2.5"},
	{to: Version{4, 2, 9}, min: Version{4, 2, 0}, max: Version{4, 2, 8}, source: "CE docs upgrade to V4.2.9-CE (community-oms-en-10000000002366974): from 4.2.0 through 4.2.8"},
}

// ErrDowngrade marks a target older than the running version: that is the
// rollback of an upgrade (restore.hcl: the previous image and the backup
// taken before the upgrade), never an upgrade.
var ErrDowngrade = errors.New("a downgrade is not an upgrade")

// UpgradeGate says whether an offline upgrade from → to is one the sources
// allow, naming the rule and its source when it is not. from == to is
// allowed (nothing to upgrade).
func UpgradeGate(from, to Version) error {
	var errs []error
	if from.Compare(minUpgradeSource) < 0 {
		errs = append(errs, fmt.Errorf("%s is older than %s, the oldest version obd upgrades from (obd plugins/oms/1.0.0/upgrade_pre.py); deploy %s fresh instead", from, minUpgradeSource, to))
	}
	if to.Compare(from) < 0 {
		errs = append(errs, fmt.Errorf("%w: %s is older than the running %s; to go back after an upgrade, run playbooks/restore.hcl, which starts the previous image and restores the MetaDB backup taken before the upgrade (the only downgrade the OMS docs describe: their rollback)", ErrDowngrade, to, from))
		return errors.Join(errs...)
	}
	for _, h := range documentedHops {
		if h.to != to || from == to {
			continue
		}
		ok := false
		for _, f := range h.from {
			ok = ok || f == from
		}
		if len(h.from) == 0 {
			ok = from.Compare(h.min) >= 0 && from.Compare(h.max) <= 0
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s → %s is not a documented upgrade: %s", from, to, h.source))
		}
	}
	return errors.Join(errs...)
}
