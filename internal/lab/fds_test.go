package lab

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// A descriptor inherited without close-on-exec (as flock's lock is) does
// not reach the processes the lab starts.
func TestInheritedDescriptorsDoNotReachChildren(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "lock")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	// Dup clears close-on-exec, as an inherited descriptor would be.
	closeInheritedOnExec()
	out, err := exec.Command("ls", "-l", "/proc/self/fd/").Output()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), f.Name()) {
		t.Errorf("a child still holds %s:\n%s", f.Name(), out)
	}
}
