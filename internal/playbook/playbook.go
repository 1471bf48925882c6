// Package playbook loads HCL playbooks: variables, locals and ordered steps.
// Step bodies are kept unevaluated and decoded late, once per host, against
// the module's own schema (the Terraform pattern).
package playbook

import (
	"io/fs"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/zclconf/go-cty/cty"

	"github.com/omsrun/omsrun/inventory"
)

// Playbook is a loaded, statically checked playbook.
type Playbook struct {
	Path string
	// Vars holds every declared variable's final value (the -e arguments,
	// name=value and @file, later ones winning > Options.Preset > default),
	// converted to its type; sensitive ones carry secret.Mark throughout.
	Vars map[string]cty.Value
	// Locals holds every local, evaluated once (locals may not refer to host).
	Locals map[string]cty.Value
	Steps  []*Step
	// MaxFailPercentage stops the run when more than this share of hosts failed; -1 means unset.
	MaxFailPercentage int
	// AnyErrorsFatal stops the run after the step in which any host failed.
	AnyErrorsFatal bool
	// Files are the parsed sources, for rendering diagnostics with snippets.
	Files map[string]*hcl.File

	// Variables are the declared variables, by name.
	Variables map[string]*Variable
	// Dir is the playbook's directory: file() and templatefile() paths are relative to it.
	Dir string

	// origins are where the user set each variable (a var file's value, an
	// -e argument), and localExprs each local's expression: a module's
	// complaint about an argument is reported where its value was written.
	origins    map[string]hcl.Range
	localExprs map[string]hcl.Expression
	// localOrder lists the locals in dependency order, to evaluate them
	// again for a host whose per-host variables differ.
	localOrder []string
	// cmdline marks the variables whose value came from -e name=value,
	// which no inventory variable overrides.
	cmdline map[string]bool

	// inv is the inventory given to Load, used when a Scope carries none.
	inv *inventory.Inventory
	// fsys, when set, holds the playbook and the files it includes (a
	// shipped playbook embedded in the binary); nil reads the disk.
	fsys fs.FS

	// objects caches the cty objects of an inventory's hosts and groups,
	// which every per-host EvalContext shares.
	objects     *objectCache
	objectsOnce sync.Once // guards creating objects for a Playbook built by hand
}

// Variable is one `variable "name" {}` block.
type Variable struct {
	Name        string
	Type        cty.Type // cty.DynamicPseudoType when no type is given
	Defaults    *typeexpr.Defaults
	Default     cty.Value // cty.NilVal when the variable has no default
	Description string
	Sensitive   bool
	Nullable    bool
	// PerHost lets an inventory host or group variable of the same name
	// give this variable another value on that host (mount_dir on a node
	// whose data disk is elsewhere); -e name=value still wins everywhere.
	PerHost bool
	// SplitGroup makes a list of objects divide that group's hosts among
	// its elements by their `hosts` patterns (split.go), and
	// SplitOverrides are the element attributes that replace the
	// variables of the same name on an element's hosts.
	SplitGroup     string
	SplitOverrides []string
	// SplitNoHosts, when set, says what to do about an element whose hosts
	// select no host of the inventory: a template evaluated with the
	// element as `element` (regions name the region and the ways out).
	SplitNoHosts hcl.Expression
	Validations  []*Validation
	DeclRange    hcl.Range
}

// Validation is one `validation {}` block of a variable.
type Validation struct {
	Condition    hcl.Expression
	ErrorMessage hcl.Expression
	DeclRange    hcl.Range
}

// Step is one `step "name" {}` block. The engine owns every field but Module and Body.
type Step struct {
	Name      string
	DeclRange hcl.Range

	Hosts        string         // host pattern; "all" when unset
	HostsRange   hcl.Range      // where hosts was set (the step's header when unset)
	When         hcl.Expression // nil when unset; evaluated per host
	Serial       Serial         // rollout batches; zero: all hosts at once
	RunOnce      bool
	Timeout      time.Duration // 0: none
	Retries      int
	Delay        time.Duration
	Until        hcl.Expression // nil when unset; sees `result`
	IgnoreErrors bool
	// CheckMode runs the step in check mode even in a real run: it reports
	// what would change and changes nothing (status.hcl's config drift).
	CheckMode bool
	// Confirm, when set, is asked (y/n) before the step runs for real, unless --yes.
	Confirm string

	// Module is the name of the step's single module block; Body is that block's body.
	Module      string
	ModuleRange hcl.Range
	Body        hcl.Body

	// whenSteps and bodySteps are the earlier steps whose outputs When and
	// Body read (steps["name"]), found at load; nil (a Step built by hand)
	// means every step.
	whenSteps, bodySteps *stepRefs
}

// Scope is what one host sees when a step is evaluated for it.
type Scope struct {
	Host *inventory.Host
	// Inv is always the whole inventory (never narrowed by --limit), so `hosts.oms` lists every node.
	Inv *inventory.Inventory
	// Changed reports whether the named earlier step changed this host.
	Changed func(step string) bool
	// Result is the current attempt's result, for `until`; cty.NilVal otherwise.
	Result cty.Value
	// Outputs are the outputs of earlier steps: step name → host name → object,
	// exposed as `steps["name"]["host"].key`.
	Outputs map[string]map[string]cty.Value
}
