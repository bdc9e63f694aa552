//go:build !unix

package remote

import "os/exec"

// ownGroup does nothing where there are no process groups.
func ownGroup(*exec.Cmd) {}

// terminateGroup kills the process (no process groups here).
func terminateGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// killGroup kills the process.
func killGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }
