// Command floor measures the SSH floor omsrun is compared against: one
// x/crypto/ssh connection per host, dialled in parallel, then N commands run
// as sessions one after another on each host, hosts in parallel. It prints the
// wall time in milliseconds, start-up included, so nobody can flatter a ratio
// with a slow floor.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
)

func main() {
	start := time.Now()
	hosts := flag.String("hosts", "", "comma-separated host addresses")
	key := flag.String("key", "", "private key file")
	user := flag.String("user", "root", "SSH user")
	n := flag.Int("n", 10, "commands per host")
	cmd := flag.String("cmd", "true", "command to run")
	flag.Parse()
	if err := run(strings.Split(*hosts, ","), *key, *user, *n, *cmd); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
	fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
}

func run(hosts []string, keyFile, user string, n int, cmd string) error {
	pem, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	signer, err := ssh.ParsePrivateKey(pem)
	if err != nil {
		return err
	}
	cfg := &ssh.ClientConfig{
		User: user,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(signer)},
		// The floor measures speed on the lab only; omsrun itself verifies keys.
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
		Timeout:         10 * time.Second,
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(hosts))
	for _, h := range hosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ssh.Dial("tcp", net.JoinHostPort(h, "22"), cfg)
			if err != nil {
				errs <- fmt.Errorf("%s: %w", h, err)
				return
			}
			defer c.Close()
			for i := 0; i < n; i++ {
				s, err := c.NewSession()
				if err != nil {
					errs <- fmt.Errorf("%s: %w", h, err)
					return
				}
				err = s.Run(cmd)
				s.Close()
				if err != nil {
					errs <- fmt.Errorf("%s: %w", h, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
