package remote

import "syscall"

// setParentDeathSignal has the kernel kill the runtime when Ferry dies
// without closing it, so no orphan keeps serving (or holding its port).
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }
