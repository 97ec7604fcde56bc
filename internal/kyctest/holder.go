package kyctest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// A holder is the test binary run as a second process that holds something
// (a lock, a database file) until it is told to let go, for tests of what
// another process sees.

// ServeHolder makes the test binary a holder when the variable env is set,
// and is called first thing in TestMain: it calls hold with the variable's
// value, prints the line hold returns (or "error" and the error), waits
// until its stdin closes, calls release and exits. Without the variable it
// returns at once.
func ServeHolder(env string, hold func(value string) (line string, release func(), err error)) {
	value := os.Getenv(env)
	if value == "" {
		return
	}
	line, release, err := hold(value)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println(line)
	bufio.NewReader(os.Stdin).ReadString('\n') // until the parent closes stdin
	release()
	os.Exit(0)
}

// StartHolder runs the test binary as a holder of value (see ServeHolder)
// and returns the line it printed once it holds it, the process, and
// release, which makes it let go and waits for it to exit. The process is
// killed when the test ends, if it is still running.
func StartHolder(t testing.TB, env, value string) (line string, cmd *exec.Cmd, release func() error) {
	t.Helper()
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"="+value)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err = bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("holder: %v", err)
	}
	line = strings.TrimSpace(line)
	if strings.HasPrefix(line, "error ") {
		t.Fatalf("holder: %s", line)
	}
	release = func() error {
		stdin.Close()
		return cmd.Wait()
	}
	return line, cmd, release
}
