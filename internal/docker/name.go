// Package docker holds what omsrun knows about Docker itself, apart from any
// one module: its naming rules and the shape of what `docker inspect` prints.
package docker

import (
	"fmt"
	"regexp"
)

// containerNameRE is Docker's rule for container names, less its minimum of
// two characters: a name outside it names no container, and one starting
// with "-" would reach docker as an option.
var containerNameRE = regexp.MustCompile(`^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// CheckContainerName refuses a container name docker would not accept; ""
// (the module's default) is fine.
func CheckContainerName(arg, name string) error {
	if name == "" || containerNameRE.MatchString(name) {
		return nil
	}
	return fmt.Errorf("%s: %q is not a container name (letters, digits, _ . and -, starting with a letter or digit)", arg, name)
}
