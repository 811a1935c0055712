"""Sandbox entry point (pid 1 of the sandbox's pid namespace under bwrap): forks the warm worker, then is its comparer.

Descriptors from the host: 3 jobs for the worker (candidate side only), 4 the worker's answers, 5 the judge side of
each job for the comparer. The comparer keeps 5 and gives 3 and 4 to the worker; neither sees the other's input.
Both are non-dumpable before anything else happens, so no process of a job can read or write their memory.
"""
import json
import os
import socket
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

PR_SET_DUMPABLE = 4


def _nondumpable():
    try:
        import fr_lockdown

        fr_lockdown.set_nondumpable()
        return
    except ImportError:
        pass
    import ctypes

    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed")


def main():
    limits = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    _nondumpable()
    for fd in (3, 4, 5):
        os.set_inheritable(fd, True)
    comparer_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        comparer_end.close()
        os.close(5)
        import fr_worker

        try:
            fr_worker.main(limits, worker_end)
        finally:
            os._exit(0)
    worker_end.close()
    os.close(3)
    os.close(4)
    import fr_comparer

    fr_comparer.main(comparer_end, 5, pid)
    # The worker is gone (or the link broke): end the sandbox so the host starts a new one.
    os._exit(0)


if __name__ == "__main__":
    main()
