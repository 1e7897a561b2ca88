package main

import (
	"os"
	"os/exec"
	"testing"
)

// A child's CPU moves to its parent's children's time once it is waited
// for, which is what keeps commCPU from counting an exited PostgreSQL
// backend as foreign load.
func TestProcCPUsCountsWaitedChildren(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	_, before := procCPUs(os.Getpid())
	cmd := exec.Command(sh, "-c", `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done`)
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	childCPU := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	_, after := procCPUs(os.Getpid())
	if childCPU < 0.05 {
		t.Fatalf("the child used only %.2fs of CPU: too little to check", childCPU)
	}
	if got := after - before; got < childCPU/2 {
		t.Fatalf("children's CPU grew by %.2fs, the child used %.2fs", got, childCPU)
	}
}
