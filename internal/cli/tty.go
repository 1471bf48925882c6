package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// errInterrupted is a question at the terminal ended by Ctrl-C.
var errInterrupted = errors.New("interrupted at the question")

// readTTY writes prompt to the terminal and reads one line from it, without
// echo when secret. omsrun catches SIGINT so that a run can stop cleanly,
// which means Ctrl-C no longer ends a blocked read by itself: the read ends
// when ctx does (errInterrupted), and the terminal is put back as it was,
// echo included, in every case.
func readTTY(ctx context.Context, prompt string, secret bool) (string, error) {
	// os.OpenFile puts a terminal in the runtime's poller, so a read
	// deadline can end a read that is waiting; Fd() would make it blocking
	// again, hence the raw descriptor through Control.
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer tty.Close()
	if secret {
		restore, err := echoOff(tty)
		if err != nil {
			return "", err
		}
		defer restore()
	}
	fmt.Fprint(tty, prompt)
	type result struct {
		line string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		line, err := readLine(tty)
		done <- result{line, err}
	}()
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		// Ends the read when the terminal is pollable; otherwise the read
		// is left behind, and the process ends soon anyway.
		_ = tty.SetReadDeadline(time.Now())
		r.err = errInterrupted
	}
	if secret || r.err != nil {
		// The Enter (or ^C) typed was not echoed: end the prompt's line.
		fmt.Fprintln(tty)
	}
	if r.err == nil && ctx.Err() != nil {
		r.err = errInterrupted
	}
	return strings.TrimRight(r.line, "\r\n"), r.err
}

// readLine reads up to a newline byte by byte: a buffered reader could keep
// what the next question should read.
func readLine(f *os.File) (string, error) {
	var b strings.Builder
	one := make([]byte, 1)
	for {
		n, err := f.Read(one)
		if n == 1 {
			if one[0] == '\n' {
				return b.String(), nil
			}
			b.WriteByte(one[0])
		}
		if err != nil {
			return b.String(), err
		}
	}
}

// echoOff turns the terminal's echo off (line editing and Ctrl-C still
// work) and returns what puts it back.
func echoOff(tty *os.File) (func(), error) {
	rc, err := tty.SyscallConn()
	if err != nil {
		return nil, err
	}
	var old *unix.Termios
	var opErr error
	err = rc.Control(func(fd uintptr) {
		old, opErr = unix.IoctlGetTermios(int(fd), unix.TCGETS)
		if opErr != nil {
			return
		}
		st := *old
		st.Lflag &^= unix.ECHO
		st.Lflag |= unix.ICANON | unix.ISIG
		st.Iflag |= unix.ICRNL
		opErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, &st)
	})
	if err == nil {
		err = opErr
	}
	if err != nil {
		return nil, err
	}
	return func() {
		_ = rc.Control(func(fd uintptr) { _ = unix.IoctlSetTermios(int(fd), unix.TCSETS, old) })
	}, nil
}
